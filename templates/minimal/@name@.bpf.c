// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.bpf.c - kernel part of @name@.
 *
 * Program type: BPF_PROG_TYPE_TRACEPOINT, attached to the static tracepoint
 * syscalls:sys_enter_write, which fires on entry to write(2) in every process
 * on the system. The program keeps only the calls made by one process (the
 * user part stores its own pid in a read-only global before loading) and
 * logs a line to the kernel trace buffer with bpf_printk().
 */
#include "vmlinux.h"		/* kernel types, generated from the kernel's BTF */
#include <bpf/bpf_helpers.h>	/* SEC(), bpf_printk(), helper prototypes */

/*
 * bpf_printk() wraps bpf_trace_printk(), a GPL-only helper: the verifier
 * refuses to load a program that calls it unless the license is
 * GPL-compatible. "Dual BSD/GPL" is.
 */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Configuration set by user space. `const volatile` puts the variable in the
 * .rodata section, which libbpf turns into a map; the skeleton exposes it as
 * skel->rodata->target_pid so user space can set it after open and before
 * load. Once loaded the map is frozen, so the verifier knows the value and
 * `volatile` only stops clang from folding the initial 0 into the code.
 */
const volatile pid_t target_pid = 0;

/*
 * "tp/<category>/<event>" tells libbpf both the program type and where the
 * skeleton's attach() hooks it up. The context would point to the
 * tracepoint's record (syscall number and arguments); this program does not
 * read it.
 */
SEC("tp/syscalls/sys_enter_write")
int handle_write(void *ctx)
{
	/*
	 * bpf_get_current_pid_tgid() returns tgid << 32 | tid. The tgid is what
	 * user space calls the process id.
	 */
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != target_pid)
		return 0;

	/* Read the result in /sys/kernel/tracing/trace_pipe. */
	bpf_printk("BPF triggered from PID %d.\n", pid);
	return 0;
}
