// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * @name@.c - user part of @name@.
 *
 * The build compiles @name@.bpf.c and `bpftool gen skeleton` turns the
 * object into @name@.skel.h: struct @name@_bpf with a field per program
 * (skel->progs.handle_openat), map (skel->maps.events) and global section
 * (skel->rodata), plus @name@_bpf__open/load/attach/destroy. This file
 * opens the skeleton, sets the pid filter, loads and attaches, then reads
 * the events the kernel part writes to the perf buffer and prints one line
 * per openat(2) call.
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
#include "@name@.h"
#include "custom_btf.h"
#include "@name@.skel.h"

#define PERF_BUFFER_PAGES 64	/* per CPU (256 KiB with 4 KiB pages): room for a burst of opens, such as a parallel build; a power of two */
#define POLL_TIMEOUT_MS 100

enum { OPT_LOAD_ONLY = 256 };	/* long-only option, outside the char range */

static struct {
	bool verbose;
	bool load_only;
	unsigned int duration;	/* seconds; 0 = until SIGINT/SIGTERM */
	pid_t pid;		/* 0 = all processes */
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
		"Usage: %s [-v] [-p PID] [-d SECONDS] [--load-only]\n"
		"Print the pid, parent pid, command and filename of each openat(2) call.\n"
		"\n"
		"  -p, --pid PID           trace only this process (default: all)\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  exit after SECONDS (default: run until Ctrl-C)\n"
		"      --load-only         load the programs (verifier check), then exit\n"
		"  -h, --help              show this help\n",
		prog);
}

/* Parse a positive decimal number that fits in an int; -1 if invalid. */
static long parse_positive(const char *s)
{
	char *end;
	long val;

	errno = 0;
	val = strtol(s, &end, 10);
	if (errno || end == s || *end || val <= 0 || val > INT_MAX)
		return -1;
	return val;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "duration", required_argument, NULL, 'd' },
		{ "load-only", no_argument, NULL, OPT_LOAD_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long val;
	int c;

	while ((c = getopt_long(argc, argv, "p:vd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			val = parse_positive(optarg);
			if (val < 0) {
				fprintf(stderr, "%s: invalid pid: %s\n", argv[0], optarg);
				return -1;
			}
			env.pid = (pid_t)val;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'd':
			val = parse_positive(optarg);
			if (val < 0) {
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

/*
 * Called by perf_buffer__poll() for each sample, with the bytes the kernel
 * part passed to bpf_perf_event_output(). The kernel may pad a sample, so
 * the size is at least, not exactly, sizeof(struct @name@_open_event).
 */
static void handle_event(void *ctx, int cpu, void *data, __u32 size)
{
	const struct @name@_open_event *e = data;

	(void)ctx;
	(void)cpu;
	if (size < sizeof(*e))
		return;
	printf("%-7d %-7d %-16s %s\n", e->pid, e->ppid, e->comm, e->filename);
}

/* Called when a CPU's buffer was full and the kernel dropped samples. */
static void handle_lost(void *ctx, int cpu, __u64 count)
{
	(void)ctx;
	fprintf(stderr, "@name@: lost %llu events on CPU %d\n",
		(unsigned long long)count, cpu);
}

int main(int argc, char **argv)
{
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct perf_buffer *pb = NULL;
	struct bpf_program *prog;
	struct sigaction sa;
	int err = 0, nprogs = 0;

	if (parse_args(argc, argv))
		return 2;

	/* Line-buffer stdout so a pipe reader sees each event as it comes. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/*
	 * No SA_RESTART: a signal makes perf_buffer__poll() return -EINTR at
	 * once. SIGALRM implements --duration and takes the same exit path.
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
	skel->rodata->target_pid = env.pid;

	/* Load: create the maps, apply CO-RE relocations, verify the program. */
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

	/* Attach: libbpf reads "tp/syscalls/sys_enter_openat" from SEC(). */
	err = @name@_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to attach BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}

	/*
	 * One perf ring per CPU, each PERF_BUFFER_PAGES pages, mmap()ed and
	 * stored in the events map so bpf_perf_event_output() can find it.
	 */
	pb = perf_buffer__new(bpf_map__fd(skel->maps.events), PERF_BUFFER_PAGES,
			      handle_event, handle_lost, NULL, NULL);
	if (!pb) {
		err = -errno;
		fprintf(stderr, "@name@: failed to create perf buffer: %s\n", strerror(errno));
		goto cleanup;
	}

	if (env.duration)
		alarm(env.duration);

	/* The header doubles as the sign that tracing is live. */
	printf("%-7s %-7s %-16s %s\n", "PID", "PPID", "COMM", "FILENAME");

	while (!exiting) {
		/* epoll over all CPU rings; runs handle_event() per sample. */
		err = perf_buffer__poll(pb, POLL_TIMEOUT_MS);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "@name@: error polling perf buffer: %s\n", strerror(-err));
			goto cleanup;
		}
		err = 0;
	}

cleanup:
	/* Both are safe with NULL; destroy detaches and unloads everything. */
	perf_buffer__free(pb);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
