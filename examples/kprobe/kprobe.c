// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kprobe.c - user-space half of the kprobe example.
 *
 * Loads kprobe.bpf.o through the skeleton that `bpftool gen skeleton`
 * generated (kprobe.skel.h), attaches both programs to do_unlinkat() and
 * waits until interrupted. The programs print to the kernel trace buffer.
 *
 * Usage: kprobe [-v] [--load-only]
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "kprobe.skel.h"

static bool verbose;
static volatile sig_atomic_t exiting;

/* libbpf reports through this callback; stay quiet unless -v was given. */
static int libbpf_print_fn(enum libbpf_print_level level, const char *format,
			   va_list args)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [-v] [--load-only]\n"
		"  -v, --verbose  print libbpf's debug messages\n"
		"  --load-only    load the programs (kernel verifier check) and exit\n",
		prog);
}

int main(int argc, char **argv)
{
	struct kprobe_bpf *skel;
	bool load_only = false;
	int err, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--load-only")) {
			load_only = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(argv[0]);
			return 0;
		} else {
			fprintf(stderr, "kprobe: unknown argument '%s'\n", argv[i]);
			usage(argv[0]);
			return 2;
		}
	}

	libbpf_set_print(libbpf_print_fn);

	/* Open the object embedded in the skeleton, then load it: loading
	 * creates the maps and hands every program to the kernel verifier. */
	skel = kprobe_bpf__open_and_load();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "kprobe: failed to open and load BPF skeleton: %s\n",
			strerror(-err));
		return 1;
	}

	if (load_only) {
		printf("kprobe: all programs loaded (verifier accepted)\n");
		kprobe_bpf__destroy(skel);
		return 0;
	}

	/* Attach the kprobe and the kretprobe; libbpf takes the target
	 * function from each program's SEC() name. */
	err = kprobe_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "kprobe: failed to attach BPF programs: %s\n",
			strerror(-err));
		/* No kprobe PMU and no kprobe_events file: the kernel was
		 * built without CONFIG_KPROBES. */
		if (err == -ENOENT)
			fprintf(stderr, "kprobe: this kernel seems to lack kprobe support "
				"(CONFIG_KPROBES); try --load-only to just run the verifier\n");
		kprobe_bpf__destroy(skel);
		return 1;
	}

	if (signal(SIGINT, sig_handler) == SIG_ERR ||
	    signal(SIGTERM, sig_handler) == SIG_ERR) {
		fprintf(stderr, "kprobe: cannot install signal handler: %s\n",
			strerror(errno));
		kprobe_bpf__destroy(skel);
		return 1;
	}

	printf("kprobe: attached to do_unlinkat. Delete a file (e.g. `touch /tmp/x && rm /tmp/x`)\n"
	       "and read the trace output with `sudo cat /sys/kernel/tracing/trace_pipe`\n"
	       "(or /sys/kernel/debug/tracing/trace_pipe). Press Ctrl-C to stop.\n");
	fflush(stdout);

	while (!exiting)
		sleep(1);

	printf("\nkprobe: signal received, detaching and exiting.\n");
	kprobe_bpf__destroy(skel);
	return 0;
}
