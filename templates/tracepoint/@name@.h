/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * @name@.h - types shared by the kernel part (@name@.bpf.c) and the user
 * part (@name@.c). Both sides see the same layout, so the bytes the BPF
 * program writes into the perf buffer can be read as this struct.
 *
 * Only fixed-size fields: the kernel part copies the whole struct in one
 * go, and the verifier must know its size at load time.
 */
#ifndef __@NAME@_H
#define __@NAME@_H

#define @NAME@_COMM_LEN 16	/* the kernel's TASK_COMM_LEN */
#define @NAME@_PATH_LEN 256	/* longer filenames are truncated */

struct @name@_open_event {
	int pid;			/* process (thread group) id */
	int ppid;			/* parent's process id */
	char comm[@NAME@_COMM_LEN];	/* task name, NUL-terminated */
	char filename[@NAME@_PATH_LEN];	/* openat's path, NUL-terminated */
};

#endif /* __@NAME@_H */
