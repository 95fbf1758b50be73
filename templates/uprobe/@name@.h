/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * @name@.h - types shared by the kernel part (@name@.bpf.c) and the user
 * part (@name@.c). The BPF programs fill this struct in the ring buffer and
 * user space reads the same bytes with the same layout.
 */
#ifndef __@NAME@_H
#define __@NAME@_H

/* Which probe produced the event. */
enum @name@_call_kind {
	@NAME@_CALL_ENTRY = 1,	/* uprobe: function entry, a and b are set */
	@NAME@_CALL_RETURN = 2,	/* uretprobe: function return, ret is set */
};

struct @name@_call_event {
	int pid;		/* process (thread group) id of the caller */
	int kind;		/* enum @name@_call_kind */
	int a;			/* first argument (entry only) */
	int b;			/* second argument (entry only) */
	int ret;		/* return value (return only) */
};

#endif /* __@NAME@_H */
