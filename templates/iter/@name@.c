// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * Loads @name@.bpf.o through the skeleton (@name@.skel.h) and attaches the
 * task iterator, which for an iterator only creates a link: nothing runs
 * yet. bpf_iter_create() then turns the link into a readable fd; every
 * read(2) on it makes the kernel run the program over the next tasks and
 * returns what it printed. The table is copied to stdout and the program
 * exits.
 *
 * Usage: @name@ [-v] [-d SECONDS] [-t] [--load-only]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "custom_btf.h"
#include "@name@.skel.h"

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

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [-v] [-d SECONDS] [-t] [--load-only]\n"
		"List the processes on the system with a BPF task iterator.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  give up after SECONDS (the listing\n"
		"                          normally takes milliseconds)\n"
		"  -t, --threads           one line per thread, not per process\n"
		"  --load-only             load the program (verifier check) and exit\n"
		"  -h, --help              show this help\n",
		prog);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "threads",   no_argument,       NULL, 't' },
		{ "load-only", no_argument,       NULL, 'L' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	bool load_only = false, threads = false;
	double deadline = 0;
	long duration = 0;
	int opt, err = 0, nprogs = 0, iter_fd = -1;
	ssize_t n;
	char buf[4096], *end;

	while ((opt = getopt_long(argc, argv, "vd:th", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'd':
			errno = 0;
			duration = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || duration <= 0) {
				fprintf(stderr, "@name@: invalid duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			threads = true;
			break;
		case 'L':
			load_only = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "@name@: unexpected argument '%s'\n", argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}

	libbpf_set_print(libbpf_print_fn);

	/* A kernel without BTF of its own: use the one btf-for made (custom_btf.h). */
	if (use_custom_btf("@name@", &open_opts))
		return 1;
	skel = @name@_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		fprintf(stderr, "@name@: failed to open BPF skeleton: %s\n",
			strerror(errno));
		return 1;
	}

	skel->rodata->show_threads = threads;

	/* Load: the verifier checks the program against the task iterator's
	 * context type, found in the kernel's BTF. */
	err = @name@_bpf__load(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to load BPF skeleton: %s\n",
			strerror(-err));
		goto cleanup;
	}

	if (load_only) {
		bpf_object__for_each_program(prog, skel->obj)
			nprogs++;
		printf("@name@: loaded %d programs (verifier accepted)\n", nprogs);
		goto cleanup;
	}

	/* For SEC("iter/...") the skeleton's attach creates an iterator link
	 * (skel->links.list_tasks); it does not run the program. */
	err = @name@_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to attach BPF iterator: %s\n",
			strerror(-err));
		goto cleanup;
	}

	/* Each bpf_iter_create() starts a new, independent walk over the
	 * tasks; the fd reads like a file and returns 0 at the end. */
	iter_fd = bpf_iter_create(bpf_link__fd(skel->links.list_tasks));
	if (iter_fd < 0) {
		err = -errno;
		fprintf(stderr, "@name@: failed to create iterator: %s\n",
			strerror(errno));
		goto cleanup;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		err = -errno;
		fprintf(stderr, "@name@: cannot install signal handler: %s\n",
			strerror(errno));
		goto cleanup;
	}
	if (duration)
		deadline = now_seconds() + duration;

	printf("%-7s %-7s %-7s %-7s %s\n", "PID", "TID", "PPID", "UID", "COMM");
	fflush(stdout);
	while (!exiting && (!deadline || now_seconds() < deadline)) {
		n = read(iter_fd, buf, sizeof(buf));
		if (n == 0)
			break;		/* all tasks listed */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			fprintf(stderr, "@name@: failed to read iterator: %s\n",
				strerror(errno));
			break;
		}
		if (fwrite(buf, 1, n, stdout) != (size_t)n) {
			err = -EIO;
			fprintf(stderr, "@name@: failed to write output\n");
			break;
		}
	}
	fflush(stdout);

cleanup:
	if (iter_fd >= 0)
		close(iter_fd);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
