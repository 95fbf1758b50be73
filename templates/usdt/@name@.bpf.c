// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * One USDT program. A USDT (user statically-defined tracing) probe is a
 * marker compiled into an application with <sys/sdt.h>: a nop instruction
 * plus an ELF note (.note.stapsdt) that records its address and where each
 * argument lives (register, stack slot, constant). libbpf reads that note,
 * places a uprobe on the nop, and stores the argument locations in a map
 * that the BPF_USDT() macro uses to fetch the arguments. The program type
 * is BPF_PROG_TYPE_KPROBE (uprobes share it); the context is pt_regs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/usdt.bpf.h>	/* BPF_USDT(), bpf_usdt_arg_cnt(); its maps */
#include "@name@.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

/* SEC("usdt") with no target: user space attaches it explicitly with
 * bpf_program__attach_usdt(), naming the binary, provider and probe.
 * BPF_USDT() declares the probe's arguments by position; each one is read
 * through the argument spec libbpf recorded for this probe site. */
SEC("usdt")
int BPF_USDT(handle_tick, long seq, long value, const char *msg)
{
	struct @name@_event *e;

	/* The verifier requires the NULL check: the ring buffer can be full. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->seq = seq;
	e->value = value;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->arg_cnt = bpf_usdt_arg_cnt(ctx);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	/* `msg` is an address in the traced process, not kernel memory: it
	 * must be copied with the _user_ helper, which fails safely (and
	 * leaves an empty string) if the page is not mapped. */
	if (bpf_probe_read_user_str(&e->msg, sizeof(e->msg), msg) < 0)
		e->msg[0] = '\0';

	bpf_ringbuf_submit(e, 0);
	return 0;
}
