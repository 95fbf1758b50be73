// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Program type: BPF_PROG_TYPE_TRACEPOINT on syscalls:sys_enter_openat, the
 * static tracepoint at the entry of openat(2). For each call (optionally
 * only those of one process) it builds a struct @name@_open_event and hands
 * it to user space through a perf buffer.
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/bpf_core_read.h>	/* BPF_CORE_READ() */
#include "@name@.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Optional pid filter, 0 = every process. A `const volatile` global lands
 * in .rodata: user space sets skel->rodata->target_pid between open and
 * load, then the map is frozen and the verifier treats the value as a
 * constant (with 0 it drops the filter branch as dead code).
 */
const volatile pid_t target_pid = 0;

/*
 * A perf event array has one slot per CPU; each slot holds a perf ring
 * buffer that user space maps (perf_buffer__new() in @name@.c). libbpf sets
 * max_entries to the number of CPUs when it is left out. Keys and values are
 * u32: CPU index and perf event fd.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");

/*
 * struct trace_event_raw_sys_enter (from vmlinux.h) describes the record of
 * every sys_enter_* tracepoint: the syscall number and args[6]. For
 * openat(int dfd, const char *filename, int flags, umode_t mode),
 * args[1] is the filename. The verifier checks that the program reads only
 * inside the record.
 */
SEC("tp/syscalls/sys_enter_openat")
int handle_openat(struct trace_event_raw_sys_enter *ctx)
{
	/*
	 * The event lives on the 512-byte BPF stack (this one takes 280).
	 * Zero it: it keeps stale kernel bytes (say, past the filename's NUL)
	 * out of user space, and the verifier of older kernels refuses to
	 * pass uninitialized stack to a helper.
	 */
	struct @name@_open_event event = {};
	struct task_struct *task;
	pid_t pid;

	pid = bpf_get_current_pid_tgid() >> 32;	/* upper half: tgid */
	if (target_pid && pid != target_pid)
		return 0;

	event.pid = pid;

	/*
	 * bpf_get_current_task() returns the task_struct as a plain number;
	 * the program may not dereference it directly. BPF_CORE_READ() reads
	 * task->real_parent->tgid with bpf_probe_read_kernel() and records
	 * CO-RE relocations, so libbpf fixes the field offsets at load time
	 * for whatever kernel the program runs on.
	 */
	task = (struct task_struct *)bpf_get_current_task();
	event.ppid = BPF_CORE_READ(task, real_parent, tgid);

	bpf_get_current_comm(event.comm, sizeof(event.comm));

	/*
	 * The filename is a user-space pointer: only the probe-read helpers
	 * may touch it. The _str variant stops at the NUL and never writes
	 * more than the given size; on a fault it leaves an empty string.
	 */
	bpf_probe_read_user_str(event.filename, sizeof(event.filename),
				(const char *)ctx->args[1]);

	/*
	 * Copy the event into this CPU's perf buffer. The verifier checks
	 * that &event and sizeof(event) describe initialized stack memory.
	 */
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &event, sizeof(event));
	return 0;
}
