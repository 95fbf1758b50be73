/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * @name@.h - the record that @name@.bpf.c writes into the ring buffer and
 * @name@.c reads out of it. Both halves must agree on its layout byte for
 * byte, so it only uses fixed-size types: __u32 and friends come from
 * vmlinux.h in the kernel half and from <linux/types.h> in the user half
 * (include one of them before this file).
 */
#ifndef __@NAME@_H
#define __@NAME@_H

#define @NAME@_COMM_LEN 16	/* the kernel's TASK_COMM_LEN */
#define @NAME@_FILENAME_LEN 128

enum @name@_event_kind {
	@NAME@_EVENT_EXEC = 1,
	@NAME@_EVENT_EXIT = 2,
};

struct @name@_event {
	__u64 duration_ns;	/* EXIT only: time since exec, 0 if not seen */
	__u32 kind;		/* enum @name@_event_kind */
	__s32 pid;		/* thread-group id (what ps calls PID) */
	__s32 ppid;
	__u32 exit_code;	/* EXIT only: the exit(2) status */
	char comm[@NAME@_COMM_LEN];
	char filename[@NAME@_FILENAME_LEN];	/* EXEC only */
};

#endif /* __@NAME@_H */
