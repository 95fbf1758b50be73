/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * @name@.h - the record that @name@.bpf.c writes into the ring buffer for
 * each hit of the @name@:tick USDT probe, and @name@.c prints. Fixed-size
 * types only: they come from vmlinux.h in the kernel half and from
 * <linux/types.h> in the user half (include one of them first).
 */
#ifndef __@NAME@_H
#define __@NAME@_H

#define @NAME@_COMM_LEN 16
#define @NAME@_MSG_LEN 32

struct @name@_event {
	__s64 seq;		/* probe argument 1 */
	__s64 value;		/* probe argument 2 */
	__s32 pid;
	__s32 arg_cnt;		/* number of arguments the probe site declares */
	char comm[@NAME@_COMM_LEN];
	char msg[@NAME@_MSG_LEN];	/* probe argument 3: a user-space string */
};

#endif /* __@NAME@_H */
