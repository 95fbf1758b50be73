// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Two BPF_PROG_TYPE_KPROBE programs on the unlinkat(2) system call:
 *   - SEC("ksyscall/unlinkat") runs at the syscall's entry;
 *   - SEC("kretsyscall/unlinkat") runs when it returns.
 * Both log to the kernel trace buffer with bpf_printk().
 *
 * ksyscall is libbpf sugar over a kprobe. The kernel function behind a
 * syscall has an arch-specific name (__x64_sys_unlinkat on x86-64 kernels
 * with syscall wrappers); libbpf works out the right one at attach time.
 * The arguments are the syscall's own, as user space passed them:
 *     int unlinkat(int dirfd, const char *pathname, int flags);
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), bpf_printk(), helper prototypes */
#include <bpf/bpf_tracing.h>	/* BPF_KSYSCALL(), BPF_KRETPROBE() */
#include <bpf/bpf_core_read.h>	/* BPF_CORE_READ(), used inside BPF_KSYSCALL() */

/* bpf_printk() is GPL-only: the verifier checks the license at load time. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Optional pid filter, 0 = every process. `const volatile` puts it in
 * .rodata; user space sets skel->rodata->target_pid after open and before
 * load, after which the verifier treats it as a constant.
 */
const volatile pid_t target_pid = 0;

#define PATH_BUF_LEN 256

/*
 * BPF_KSYSCALL() hides how the syscall arguments are reached. With syscall
 * wrappers (CONFIG_ARCH_HAS_SYSCALL_WRAPPER, the x86-64 default) the probed
 * function gets a pointer to the user's saved registers, and the macro
 * reads the arguments from there with CO-RE reads; without wrappers they
 * are plain function arguments. The choice is made at load time: the macro
 * declares `extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig`, which libbpf
 * fills in, and the verifier prunes the branch that cannot run.
 */
SEC("ksyscall/unlinkat")
int BPF_KSYSCALL(unlinkat_entry, int dfd, const char *pathname, int flags)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;	/* upper half: tgid */
	char path[PATH_BUF_LEN];

	if (target_pid && pid != target_pid)
		return 0;

	/*
	 * `pathname` points into the caller's user memory. Only the
	 * probe-read helpers may read it; the _str variant stops at the NUL,
	 * never writes past sizeof(path), and always NUL-terminates, so the
	 * %s below is bounded. On a fault it returns < 0 and leaves an empty
	 * string.
	 */
	bpf_probe_read_user_str(path, sizeof(path), pathname);

	bpf_printk("unlinkat entry: pid=%d pathname=%s flags=%d\n", pid, path, flags);
	return 0;
}

/*
 * kretsyscall is a kretprobe on the same function: only the return value
 * is left, which BPF_KRETPROBE() passes as `ret`.
 */
SEC("kretsyscall/unlinkat")
int BPF_KRETPROBE(unlinkat_exit, long ret)
{
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;

	/* 0 on success, a negative errno (e.g. -2 for ENOENT) on failure. */
	bpf_printk("unlinkat exit: pid=%d ret=%ld\n", pid, ret);
	return 0;
}
