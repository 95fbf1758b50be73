// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * minimal.c - user-space half of the minimal example.
 *
 * Opens the skeleton, tells the BPF program which pid to watch, loads and
 * attaches it, then writes to stderr once a second; each write(2) fires the
 * tracepoint and the program logs a line to the kernel trace buffer.
 *
 * Usage: minimal [-v] [-d SECONDS] [--load-only]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "minimal.skel.h"

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
		"Usage: %s [-v] [-d SECONDS] [--load-only]\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: run until Ctrl-C)\n"
		"  --load-only             load the program (kernel verifier check) and exit\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "load-only", no_argument,       NULL, 'L' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct minimal_bpf *skel;
	bool load_only = false;
	long duration = 0, elapsed;
	char *end;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "vd:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'd':
			errno = 0;
			duration = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || duration <= 0) {
				fprintf(stderr, "minimal: invalid duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 'L':
			load_only = true;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "minimal: unexpected argument '%s'\n", argv[optind]);
		usage(argv[0]);
		return 2;
	}

	libbpf_set_print(libbpf_print_fn);

	/* Open only: the object is parsed, nothing is in the kernel yet, so
	 * global variables can still be given their initial values. */
	skel = minimal_bpf__open();
	if (!skel) {
		fprintf(stderr, "minimal: failed to open BPF skeleton: %s\n",
			strerror(errno));
		return 1;
	}

	skel->bss->my_pid = getpid();

	/* Load: create the maps (including .bss) and run the verifier. */
	err = minimal_bpf__load(skel);
	if (err) {
		fprintf(stderr, "minimal: failed to load BPF skeleton: %s\n",
			strerror(-err));
		goto cleanup;
	}

	if (load_only) {
		printf("minimal: all programs loaded (verifier accepted)\n");
		goto cleanup;
	}

	err = minimal_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "minimal: failed to attach BPF skeleton: %s\n",
			strerror(-err));
		goto cleanup;
	}

	if (signal(SIGINT, sig_handler) == SIG_ERR ||
	    signal(SIGTERM, sig_handler) == SIG_ERR) {
		err = -errno;
		fprintf(stderr, "minimal: cannot install signal handler: %s\n",
			strerror(errno));
		goto cleanup;
	}

	printf("minimal: attached, watching PID %d. Read the output with\n"
	       "`sudo cat /sys/kernel/tracing/trace_pipe` "
	       "(or /sys/kernel/debug/tracing/trace_pipe).\n",
	       (int)getpid());
	fflush(stdout);

	/* Each fprintf to stderr (unbuffered) is a write(2) syscall, which
	 * fires the sys_enter_write tracepoint for our pid. */
	for (elapsed = 0; !exiting && (!duration || elapsed < duration); elapsed++) {
		fprintf(stderr, ".");
		sleep(1);
	}
	fprintf(stderr, "\n");
	printf("minimal: %s, detaching and exiting.\n",
	       exiting ? "signal received" : "duration elapsed");

cleanup:
	minimal_bpf__destroy(skel);
	return err ? 1 : 0;
}
