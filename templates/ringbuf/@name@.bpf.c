// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * Two BPF_PROG_TYPE_TRACEPOINT programs on the scheduler's process
 * lifecycle tracepoints:
 *   sched/sched_process_exec  a process replaced its image (execve)
 *   sched/sched_process_exit  a task is exiting
 * The exec program remembers when each process exec'd in a hash map; the
 * exit program looks that time up to compute how long the process ran.
 * Both hand records to user space through a BPF ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/bpf_core_read.h>	/* BPF_CORE_READ() */
#include "@name@.h"

/* GPL-compatible license: required for GPL-only helpers such as
 * bpf_probe_read_kernel_str(); without it the program is rejected. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Configuration set by user space between open and load (skel->rodata).
 * "const volatile" puts it in .rodata: the verifier sees the final value
 * as a constant and prunes branches that can never run, and "volatile"
 * stops clang from folding the default 0 into the code at compile time.
 * When non-zero, only exits of processes that ran at least this long are
 * reported (and exec records are skipped: their duration is not known yet).
 */
const volatile __u64 min_duration_ns = 0;

/* pid -> bpf_ktime_get_ns() at exec. A hash map because pids are sparse.
 * If it fills up, updates fail and those processes report no duration. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, pid_t);
	__type(value, __u64);
} exec_start SEC(".maps");

/* One ring buffer shared by all CPUs: records arrive in order, and user
 * space wakes up through epoll. The size must be a power-of-two multiple
 * of the page size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* "tp/<category>/<name>" tells libbpf the program type and the tracepoint.
 * The context is the tracepoint's raw record, typed in vmlinux.h. */
SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task;
	struct @name@_event *e;
	unsigned int name_off;
	pid_t pid;
	__u64 ts;

	/* Upper 32 bits: the thread-group id (the process id). */
	pid = bpf_get_current_pid_tgid() >> 32;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);

	/* With a minimum duration only exits are reported. Since
	 * min_duration_ns is read-only, the verifier knows which way this
	 * branch goes and drops the dead code. */
	if (min_duration_ns)
		return 0;

	/* Reserve space in the ring buffer; NULL when it is full (user space
	 * too slow). The verifier insists on the NULL check before any use,
	 * and on every reserved record being submitted or discarded. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->kind = @NAME@_EVENT_EXEC;
	e->pid = pid;
	e->duration_ns = 0;
	e->exit_code = 0;

	/* task_struct is a kernel type whose layout differs between builds:
	 * BPF_CORE_READ() records a CO-RE relocation for each field, and
	 * libbpf fixes the offsets against the running kernel's BTF at load. */
	task = (struct task_struct *)bpf_get_current_task();
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	/* The filename is a variable-length tracepoint field: __data_loc_*
	 * holds its offset from the start of the record in the low 16 bits.
	 * bpf_probe_read_kernel_str() copies at most sizeof(e->filename) bytes
	 * and always NUL-terminates. */
	name_off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename),
				  (void *)ctx + name_off);

	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* sched_process_exit's record layout changed across kernel versions, and
 * this program needs nothing from it, so the context stays untyped. */
SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task;
	struct @name@_event *e;
	__u64 id, *start, duration_ns = 0;
	pid_t pid, tid;

	/* The tracepoint fires for every exiting thread; a process ends when
	 * its thread-group leader (tid == pid) exits. */
	id = bpf_get_current_pid_tgid();
	pid = id >> 32;
	tid = (__u32)id;
	if (pid != tid)
		return 0;

	/* Map lookups return a pointer into the map value or NULL; the
	 * verifier rejects any dereference before the NULL check. */
	start = bpf_map_lookup_elem(&exec_start, &pid);
	if (start)
		duration_ns = bpf_ktime_get_ns() - *start;
	else if (min_duration_ns)
		return 0;	/* exec not seen: duration unknown */
	bpf_map_delete_elem(&exec_start, &pid);

	if (min_duration_ns && duration_ns < min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	e->kind = @NAME@_EVENT_EXIT;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	/* exit_code is the wait(2) status: (status << 8) or a signal number. */
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->duration_ns = duration_ns;
	e->filename[0] = '\0';
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	bpf_ringbuf_submit(e, 0);
	return 0;
}
