// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.c - user part of @name@.
 *
 * `bpftool gen skeleton` turned the compiled @name@.bpf.o into @name@.skel.h:
 * a struct @name@_bpf with one field per program, map and global-variable
 * section, the object file embedded as bytes, and the functions
 * @name@_bpf__open/load/attach/destroy that drive libbpf. This file opens
 * the skeleton, tells the kernel part which pid to watch, loads and attaches
 * it, then writes to stderr once a second: each write(2) fires the
 * tracepoint, and the kernel part logs a line to the trace buffer.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "custom_btf.h"
#include "@name@.skel.h"

enum { OPT_LOAD_ONLY = 256 };	/* long-only option, outside the char range */

static struct {
	bool verbose;
	bool load_only;
	unsigned int duration;	/* seconds; 0 = until SIGINT/SIGTERM */
} env;

/* Set from signal handlers, read by the main loop. */
static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* libbpf logs through this callback; keep it silent unless -v was given. */
static int libbpf_print_fn(enum libbpf_print_level level, const char *format,
			   va_list args)
{
	(void)level;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-v] [-d SECONDS] [--load-only]\n"
		"Log a line to the kernel trace buffer each time this process calls write(2).\n"
		"\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  exit after SECONDS (default: run until Ctrl-C)\n"
		"      --load-only         load the programs (verifier check), then exit\n"
		"  -h, --help              show this help\n",
		prog);
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "duration", required_argument, NULL, 'd' },
		{ "load-only", no_argument, NULL, OPT_LOAD_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long val;
	int c;

	while ((c = getopt_long(argc, argv, "vd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			env.verbose = true;
			break;
		case 'd':
			errno = 0;
			val = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || val <= 0 || val > INT_MAX) {
				fprintf(stderr, "%s: invalid duration: %s\n", argv[0], optarg);
				return -1;
			}
			env.duration = (unsigned int)val;
			break;
		case OPT_LOAD_ONLY:
			env.load_only = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	int err = 0, nprogs = 0;

	if (parse_args(argc, argv))
		return 2;

	/* Line-buffer stdout so a pipe reader sees each line as it is printed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/*
	 * No SA_RESTART: a signal interrupts sleep() at once. SIGALRM
	 * implements --duration and takes the same clean exit path.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);

	/* Open: parse the embedded BPF object; nothing is in the kernel yet. */
	/* A kernel without BTF of its own: use the one btf-for made (custom_btf.h). */
	if (use_custom_btf("@name@", &open_opts))
		return 1;
	skel = @name@_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		fprintf(stderr, "@name@: failed to open BPF skeleton: %s\n", strerror(errno));
		goto cleanup;
	}

	/* Between open and load, .rodata is still plain memory we can write. */
	skel->rodata->target_pid = getpid();

	/* Load: create the maps, relocate and verify every program. */
	err = @name@_bpf__load(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to load BPF skeleton: %s\n", strerror(-err));
		goto cleanup;
	}

	if (env.load_only) {
		bpf_object__for_each_program(prog, skel->obj)
			nprogs++;
		printf("@name@: loaded %d programs (verifier accepted)\n", nprogs);
		goto cleanup;
	}

	/* Attach: libbpf hooks each program up as its SEC() name says. */
	err = @name@_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to attach BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}

	printf("@name@: watching write(2) calls of pid %d; read /sys/kernel/tracing/trace_pipe\n",
	       getpid());

	if (env.duration)
		alarm(env.duration);

	while (!exiting) {
		/* This write(2) is what the tracepoint program reports. */
		fprintf(stderr, ".");
		sleep(1);
	}
	fprintf(stderr, "\n");

cleanup:
	/* Detaches and unloads everything; safe to call with NULL. */
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
