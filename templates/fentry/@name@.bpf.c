// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Two BPF_PROG_TYPE_TRACING programs on do_unlinkat(), the kernel function
 * behind unlink(2) and unlinkat(2):
 *   - fentry runs at the function's entry (attach type BPF_TRACE_FENTRY);
 *   - fexit runs after it returns (BPF_TRACE_FEXIT) and sees both the
 *     arguments and the return value.
 * The kernel calls them through a BPF trampoline patched into the
 * function's ftrace entry point: cheaper than a kprobe's breakpoint, and no
 * pt_regs: the programs get the arguments themselves, typed by BTF.
 *
 *     int do_unlinkat(int dfd, struct filename *name);
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), bpf_printk(), helper prototypes */
#include <bpf/bpf_tracing.h>	/* BPF_PROG() */

/*
 * Tracing programs that attach to kernel functions must be GPL-compatible,
 * and bpf_printk() is GPL-only too.
 */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Optional pid filter, 0 = every process. `const volatile` puts it in
 * .rodata; user space sets skel->rodata->target_pid after open and before
 * load, after which the verifier treats it as a constant.
 */
const volatile pid_t target_pid = 0;

/*
 * SEC("fentry/<function>"): at load time libbpf looks the function up in the
 * kernel's BTF and passes its id to the kernel (attach_btf_id). The verifier
 * then checks the program's use of the arguments against that prototype.
 * The context is an array of u64 arguments; BPF_PROG() gives them names
 * and types.
 */
SEC("fentry/do_unlinkat")
int BPF_PROG(do_unlinkat_entry, int dfd, struct filename *name)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;	/* upper half: tgid */

	if (target_pid && pid != target_pid)
		return 0;

	/*
	 * `name` is a BTF-typed pointer (PTR_TO_BTF_ID to the verifier), so
	 * the program may dereference it directly: no bpf_probe_read_kernel()
	 * or BPF_CORE_READ() needed. The verifier turns the load into one that
	 * cannot crash on a bad pointer, and because vmlinux.h marks its types
	 * with preserve_access_index the field offset is still relocated by
	 * libbpf (CO-RE).
	 */
	bpf_printk("fentry do_unlinkat: pid=%d dfd=%d filename=%s\n", pid, dfd, name->name);
	return 0;
}

/*
 * fexit gets every argument followed by the return value. do_unlinkat()
 * releases `name` (putname()) before it returns, so this program does not
 * follow that pointer any more.
 */
SEC("fexit/do_unlinkat")
int BPF_PROG(do_unlinkat_exit, int dfd, struct filename *name, int ret)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;

	/* 0 on success, a negative errno (e.g. -2 for ENOENT) on failure. */
	bpf_printk("fexit do_unlinkat: pid=%d dfd=%d ret=%d\n", pid, dfd, ret);
	return 0;
}
