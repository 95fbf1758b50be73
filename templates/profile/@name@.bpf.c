// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * One BPF_PROG_TYPE_PERF_EVENT program. User space opens a sampling
 * software event (the CPU clock, N times a second) on every online CPU and
 * attaches this program to each; every time the event fires the program
 * runs on that CPU, in the context of whatever was running there, and
 * records who was running and the kernel and user call stacks.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include "@name@.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load: sample only this process (0: all). As
 * .rodata it is a constant for the verifier. */
const volatile pid_t target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} events SEC(".maps");

/* SEC("perf_event"): attached per perf event fd by user space. The context
 * holds the registers at the moment of the sample. */
SEC("perf_event")
int sample_stack(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	pid_t pid = id >> 32;
	struct @name@_event *e;

	/* pid 0 is the idle task: the CPU had nothing to run. */
	if (pid == 0)
		return 0;
	if (target_pid && pid != target_pid)
		return 0;

	/* The record is ~1 KiB, too big for the 512-byte BPF stack, so the
	 * stacks are written straight into ring buffer memory. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->pid = pid;
	e->tid = (__u32)id;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	/* bpf_get_stack() walks the stack from the sampled registers and
	 * stores return addresses, returning the number of bytes written or
	 * a negative error. The verifier checks the buffer is writable and at
	 * least as large as the size passed. Flags 0: the kernel stack;
	 * BPF_F_USER_STACK: the user stack, which is only complete when the
	 * sampled code keeps frame pointers. */
	e->kstack_bytes = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
	e->ustack_bytes = bpf_get_stack(ctx, e->ustack, sizeof(e->ustack),
					BPF_F_USER_STACK);

	bpf_ringbuf_submit(e, 0);
	return 0;
}
