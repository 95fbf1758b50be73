/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * @name@.h - one CPU sample, written by @name@.bpf.c into the ring buffer
 * and printed by @name@.c. Fixed-size types only: they come from vmlinux.h
 * in the kernel half and from <linux/types.h> in the user half (include
 * one of them first).
 */
#ifndef __@NAME@_H
#define __@NAME@_H

#define @NAME@_COMM_LEN 16
#define @NAME@_MAX_FRAMES 64	/* per stack; deeper stacks are truncated */

struct @name@_event {
	__s32 pid;		/* process (thread-group) id */
	__s32 tid;		/* thread id */
	__u32 cpu;
	__s32 kstack_bytes;	/* bytes bpf_get_stack() stored, or -errno */
	__s32 ustack_bytes;
	char comm[@NAME@_COMM_LEN];
	__u64 kstack[@NAME@_MAX_FRAMES];	/* kernel return addresses */
	__u64 ustack[@NAME@_MAX_FRAMES];	/* user return addresses */
};

#endif /* __@NAME@_H */
