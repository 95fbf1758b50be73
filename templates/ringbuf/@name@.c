// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * Loads @name@.bpf.o through the skeleton that `bpftool gen skeleton`
 * generated (@name@.skel.h), attaches the exec and exit tracepoint
 * programs, then drains the "events" ring buffer and prints one table row
 * per record until Ctrl-C or the -d deadline.
 *
 * Usage: @name@ [-v] [-d SECONDS] [-D MS] [--load-only]
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
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "@name@.h"
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
		"Usage: %s [-v] [-d SECONDS] [-D MS] [--load-only]\n"
		"Trace process exec and exit system-wide.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n"
		"  -D, --min-duration MS   only report exits of processes that ran at\n"
		"                          least MS milliseconds (hides exec rows)\n"
		"  --load-only             load the programs (verifier check) and exit\n"
		"  -h, --help              show this help\n",
		prog);
}

static bool parse_long(const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return false;
	*out = v;
	return true;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Called by ring_buffer__poll() once per submitted record. `data` points
 * straight into the memory-mapped ring buffer: no copy is made. */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct @name@_event *e = data;
	char ts[16], code[24], dur[32];
	struct tm tm;
	time_t t;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

	if (e->kind == @NAME@_EVENT_EXEC) {
		printf("%-8s %-5s %-16s %-7d %-7d %s\n", ts, "EXEC", e->comm,
		       e->pid, e->ppid, e->filename);
		return 0;
	}

	/* exit_code is a wait(2) status word: the low 7 bits hold the
	 * terminating signal, bits 8-15 the exit status. */
	if (e->exit_code & 0x7f)
		snprintf(code, sizeof(code), "[signal %u]", e->exit_code & 0x7f);
	else
		snprintf(code, sizeof(code), "[%u]", (e->exit_code >> 8) & 0xff);
	if (e->duration_ns)
		snprintf(dur, sizeof(dur), "%.3fms", e->duration_ns / 1e6);
	else
		snprintf(dur, sizeof(dur), "-");	/* exec not seen */
	printf("%-8s %-5s %-16s %-7d %-7d %-18s %s\n", ts, "EXIT", e->comm,
	       e->pid, e->ppid, code, dur);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",      no_argument,       NULL, 'v' },
		{ "duration",     required_argument, NULL, 'd' },
		{ "min-duration", required_argument, NULL, 'D' },
		{ "load-only",    no_argument,       NULL, 'L' },
		{ "help",         no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ring_buffer *rb = NULL;
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	long duration = 0, min_ms = 0;
	bool load_only = false;
	double deadline = 0;
	int opt, err = 0, nprogs = 0;

	while ((opt = getopt_long(argc, argv, "vd:D:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			verbose = true;
			break;
		case 'd':
			if (!parse_long(optarg, 1, &duration)) {
				fprintf(stderr, "@name@: invalid duration '%s'\n", optarg);
				return 2;
			}
			break;
		case 'D':
			if (!parse_long(optarg, 0, &min_ms)) {
				fprintf(stderr, "@name@: invalid minimum duration '%s'\n",
					optarg);
				return 2;
			}
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

	/* Rows must reach a pipe (or a test reading it) as they happen. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/* Open: parse the embedded object; nothing is in the kernel yet. */
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

	/* .rodata is still writable here; load freezes it. */
	skel->rodata->min_duration_ns = (__u64)min_ms * 1000000ULL;

	/* Load: create the maps and run every program through the verifier. */
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

	/* Attach each program to the tracepoint named by its SEC(); the
	 * links are kept in skel->links and released by __destroy(). */
	err = @name@_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to attach BPF programs: %s\n",
			strerror(-err));
		goto cleanup;
	}

	/* The ring buffer map's fd comes from the skeleton; libbpf mmaps the
	 * buffer and calls handle_event() for each record. */
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event,
			      NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "@name@: failed to create ring buffer: %s\n",
			strerror(errno));
		goto cleanup;
	}

	/* No SA_RESTART: a signal interrupts the epoll wait right away. */
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

	printf("%-8s %-5s %-16s %-7s %-7s %-18s %s\n", "TIME", "EVENT", "COMM",
	       "PID", "PPID", "FILENAME/EXIT CODE", "DURATION");

	while (!exiting) {
		/* Wait up to 100 ms for records, so the deadline and the
		 * exiting flag are checked regularly. */
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "@name@: error polling ring buffer: %s\n",
				strerror(-err));
			goto cleanup;
		}
		err = 0;
		if (deadline && now_seconds() >= deadline)
			break;
	}

cleanup:
	/* One exit path: free the ring buffer, then detach the programs and
	 * close the maps and the object. Both calls accept NULL. */
	ring_buffer__free(rb);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
