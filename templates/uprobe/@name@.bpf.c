// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Two BPF_PROG_TYPE_KPROBE programs used as user-space probes on
 *     int @name@_target(int a, int b);
 * a function of the @name@ binary itself:
 *   - the uprobe runs when a thread reaches the function's first
 *     instruction (the kernel plants a breakpoint there) and reads a and b;
 *   - the uretprobe runs when the function returns and reads the result.
 * Each sends a struct @name@_call_event to user space through a ring buffer.
 *
 * SEC("uprobe") and SEC("uretprobe") name no binary or function, so the
 * skeleton's attach() could not attach them (it skips such programs):
 * @name@.c attaches them itself with bpf_program__attach_uprobe_opts(),
 * giving the binary, the function name and the process.
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/bpf_tracing.h>	/* BPF_KPROBE(), BPF_KRETPROBE() */
#include "@name@.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * A BPF ring buffer: one buffer shared by all CPUs, mapped by user space
 * (ring_buffer__new() in @name@.c), so events keep their order. The size
 * is in bytes and must be a power of two and a multiple of the page size.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/*
 * A uprobe program sees the user thread's registers as struct pt_regs, the
 * same context as a kprobe, so BPF_KPROBE() maps the registers of the
 * user-space calling convention (x86-64 SysV: rdi, rsi, ...) to a and b.
 */
SEC("uprobe")
int BPF_KPROBE(target_entry, int a, int b)
{
	struct @name@_call_event *e;

	/*
	 * Reserve space in the ring buffer and write the event in place.
	 * Reserve fails (NULL) when the buffer is full; the verifier refuses
	 * any access through `e` before this NULL check, and it also checks
	 * that every reserved record is submitted or discarded on all paths.
	 */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->pid = bpf_get_current_pid_tgid() >> 32;	/* upper half: tgid */
	e->kind = @NAME@_CALL_ENTRY;
	e->a = a;
	e->b = b;
	e->ret = 0;

	/* Make the record visible to user space (and wake a poller). */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * The uretprobe fires when @name@_target returns to its caller; the
 * arguments are gone by then, only the return register is meaningful.
 * BPF_KRETPROBE() hands it over as `ret`.
 */
SEC("uretprobe")
int BPF_KRETPROBE(target_exit, int ret)
{
	struct @name@_call_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->kind = @NAME@_CALL_RETURN;
	e->a = 0;
	e->b = 0;
	e->ret = ret;

	bpf_ringbuf_submit(e, 0);
	return 0;
}
