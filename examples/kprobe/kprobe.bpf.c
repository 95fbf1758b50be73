// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kprobe.bpf.c - kernel half of the kprobe example.
 *
 * Two BPF programs of type BPF_PROG_TYPE_KPROBE watch do_unlinkat(), the
 * kernel function behind unlink(2)/unlinkat(2):
 *   - a kprobe runs when the function is entered and sees its arguments;
 *   - a kretprobe runs when it returns and sees its return value.
 *
 * "vmlinux.h" is generated from the running kernel's BTF (bpftool btf dump),
 * so it describes every kernel type; BPF_CORE_READ() records how fields are
 * accessed so libbpf can relocate the offsets for whatever kernel the program
 * finally loads on (CO-RE: compile once, run everywhere).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>    /* SEC(), bpf_printk(), helper prototypes */
#include <bpf/bpf_tracing.h>    /* BPF_KPROBE/BPF_KRETPROBE, PT_REGS access */
#include <bpf/bpf_core_read.h>  /* BPF_CORE_READ() */

/* The verifier refuses programs that call GPL-only helpers (bpf_printk is
 * one of them) unless the object declares a GPL-compatible license. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * int do_unlinkat(int dfd, struct filename *name);
 *
 * SEC("kprobe/<func>") tells libbpf the program type and the attach point.
 * BPF_KPROBE() turns the raw struct pt_regs context into typed arguments,
 * fetched from the registers of the x86-64 calling convention
 * (hence -D__TARGET_ARCH_x86 on the clang command line).
 */
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	pid_t pid;
	const char *filename;

	/* The upper 32 bits hold the thread-group id, i.e. the user-space pid. */
	pid = bpf_get_current_pid_tgid() >> 32;

	/* `name` points into kernel memory that the program may not dereference
	 * directly: the verifier only allows loads from memory it can prove
	 * safe. BPF_CORE_READ() goes through bpf_probe_read_kernel() and
	 * carries a CO-RE relocation for the offset of filename->name. */
	filename = BPF_CORE_READ(name, name);

	/* bpf_printk() writes to the kernel trace buffer (trace_pipe). %s makes
	 * the kernel read the string safely on our behalf. */
	bpf_printk("KPROBE ENTRY pid = %d, filename = %s\n", pid, filename);
	return 0;
}

/* The kretprobe only sees the return value (0, or a negative errno). */
SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(do_unlinkat_exit, long ret)
{
	pid_t pid;

	pid = bpf_get_current_pid_tgid() >> 32;
	bpf_printk("KPROBE EXIT: pid = %d, ret = %ld\n", pid, ret);
	return 0;
}
