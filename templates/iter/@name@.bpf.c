// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * One BPF iterator program (BPF_PROG_TYPE_TRACING, attach type
 * BPF_TRACE_ITER) for the "task" target. An iterator does not run on an
 * event: user space creates an iterator fd from the program's link and
 * read(2)s it; the kernel then walks every task and calls the program once
 * per task, and whatever the program writes with bpf_seq_printf() becomes
 * the data that read(2) returns, like a /proc file.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), BPF_SEQ_PRINTF() */
#include <bpf/bpf_core_read.h>	/* BPF_CORE_READ() */

/* bpf_seq_printf() is GPL-only: the license must be GPL-compatible. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load (skel->rodata): list every thread instead
 * of one line per process. Being read-only, the verifier treats it as a
 * constant and removes the branch that cannot run. */
const volatile bool show_threads = false;

/* "iter/task": libbpf derives the iterator target from the section name.
 * The context gives the seq_file to print into and the current task. */
SEC("iter/task")
int list_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	pid_t ppid;
	uid_t uid;

	/* After the last task the program is called once more with task ==
	 * NULL (to let it print a footer). The verifier knows ctx->task may
	 * be NULL and rejects any dereference before this check. */
	if (!task)
		return 0;

	/* pid is the thread id, tgid the process id. */
	if (!show_threads && task->pid != task->tgid)
		return 0;

	/* `task` is a trusted BTF pointer, so its own fields can be read
	 * directly; following further pointers goes through BPF_CORE_READ(),
	 * which relocates each field offset for the running kernel (CO-RE).
	 * task->cred points to a const struct, so its field is read with the
	 * _INTO variant, which copies into a variable we own (BPF_CORE_READ
	 * would declare a const temporary, which recent clang warns about). */
	ppid = BPF_CORE_READ(task, real_parent, tgid);
	uid = 0;
	BPF_CORE_READ_INTO(&uid, task, cred, uid.val);

	/* bpf_seq_printf() takes its arguments as an array of u64;
	 * BPF_SEQ_PRINTF() builds it. %s reads the string from kernel memory
	 * safely, stopping at the NUL of the 16-byte comm. */
	BPF_SEQ_PRINTF(seq, "%-7d %-7d %-7d %-7u %s\n", task->tgid, task->pid,
		       ppid, uid, task->comm);
	return 0;
}
