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

/*
 * The probe site of the Swift user part (@name@.swift). DTRACE_PROBE3()
 * expands to an inline asm statement, which Swift cannot write, so the
 * site is this static inline function: Swift compiles it through its Clang
 * importer, which defines __swift__. The C user part and the kernel part
 * do not see it (@name@.c has its own fire_tick()).
 */
#ifdef __swift__
#include <sys/sdt.h>	/* DTRACE_PROBEn(); package systemtap-sdt-dev */

static inline void @name@_fire_tick(long seq, long value, const char *msg)
{
	DTRACE_PROBE3(@name@, tick, seq, value, msg);
}
#endif

#endif /* __@NAME@_H */
