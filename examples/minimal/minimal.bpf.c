// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * minimal.bpf.c - kernel half of the minimal example.
 *
 * One BPF_PROG_TYPE_TRACEPOINT program on the syscalls:sys_enter_write
 * tracepoint. It fires for every write(2) on the system, so it filters on
 * the pid that user space stores in a global variable before loading.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>    /* SEC(), bpf_printk(), helper prototypes */

/* bpf_printk() is GPL-only: without a GPL-compatible license the verifier
 * rejects the program. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A global variable lives in a map (here .bss, because it is zero) that
 * the skeleton memory-maps: user space sets skel->bss->my_pid before load.
 * The verifier checks every access to it stays inside the map value. */
int my_pid = 0;

/* "tp/<category>/<name>": libbpf derives the program type (tracepoint) and
 * the attach point from the section name. The context is the tracepoint's
 * record; this program does not need to read it. */
SEC("tp/syscalls/sys_enter_write")
int handle_tp(void *ctx)
{
	/* Upper 32 bits: thread-group id, which user space calls the pid. */
	int pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != my_pid)
		return 0;

	bpf_printk("BPF triggered from PID %d.\n", pid);
	return 0;
}
