// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Two BPF_PROG_TYPE_KPROBE programs on do_unlinkat(), the kernel function
 * behind unlink(2) and unlinkat(2) (rmdir takes another path):
 *   - the kprobe runs at the function's entry and reads its arguments;
 *   - the kretprobe runs when it returns and reads the return value.
 * Both log to the kernel trace buffer with bpf_printk().
 *
 * A kprobe can hook almost any kernel function, but the function is not a
 * stable interface: its name and arguments change between kernel versions,
 * and an inlined function cannot be probed at all. This one is
 *     int do_unlinkat(int dfd, struct filename *name);
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), bpf_printk(), helper prototypes */
#include <bpf/bpf_tracing.h>	/* BPF_KPROBE(), BPF_KRETPROBE() */
#include <bpf/bpf_core_read.h>	/* BPF_CORE_READ() */

/* bpf_printk() is GPL-only: the verifier checks the license at load time. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Optional pid filter, 0 = every process. `const volatile` puts it in
 * .rodata; user space sets skel->rodata->target_pid after open and before
 * load, after which the verifier treats it as a constant.
 */
const volatile pid_t target_pid = 0;

/*
 * SEC("kprobe/<function>") gives libbpf the program type and the function
 * the skeleton's attach() hooks. The real context is struct pt_regs, the
 * saved CPU registers; BPF_KPROBE() unpacks the arguments from the
 * registers of the target's calling convention (hence -D__TARGET_ARCH_x86
 * at compile time) into typed parameters.
 */
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat_entry, int dfd, struct filename *name)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;	/* upper half: tgid */
	const char *filename;

	if (target_pid && pid != target_pid)
		return 0;

	/*
	 * `name` is a kernel pointer the verifier knows nothing about, so the
	 * program may not dereference it directly. BPF_CORE_READ() reads
	 * name->name through bpf_probe_read_kernel() and records a CO-RE
	 * relocation, so libbpf adjusts the field offset to the running kernel.
	 */
	filename = BPF_CORE_READ(name, name);

	/* %s makes the helper copy the string safely at print time. */
	bpf_printk("do_unlinkat entry: pid=%d dfd=%d filename=%s\n", pid, dfd, filename);
	return 0;
}

/*
 * A kretprobe sees only the registers at return time: the arguments are
 * gone, the return value is in the return register. BPF_KRETPROBE() hands
 * it over as `ret`.
 */
SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, int ret)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;

	/* 0 on success, a negative errno (e.g. -2 for ENOENT) on failure. */
	bpf_printk("do_unlinkat exit: pid=%d ret=%d\n", pid, ret);
	return 0;
}
