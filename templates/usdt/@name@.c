// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * This program is both the tracer and the traced: it contains a USDT probe
 * (provider "@name@", name "tick"), attaches the BPF program from
 * @name@.bpf.o to that probe in its own process, then fires the probe at a
 * fixed interval. Each hit runs the BPF program, which passes the probe's
 * arguments back through a ring buffer; they are printed here.
 *
 * Usage: @name@ [-v] [-d SECONDS] [-i MS] [--load-only]
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
#include <sys/sdt.h>	/* DTRACE_PROBEn(); package systemtap-sdt-dev */
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
		"Usage: %s [-v] [-d SECONDS] [-i MS] [--load-only]\n"
		"Fire the USDT probe @name@:tick in this process and trace it.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n"
		"  -i, --interval MS       fire the probe every MS ms (default 500)\n"
		"  --load-only             load the program (verifier check) and exit\n"
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

/*
 * The probe site. DTRACE_PROBE3() compiles to a single nop plus an ELF
 * note naming provider "@name@", probe "tick" and the location of the three
 * arguments; it costs nothing while no uprobe is attached. noinline keeps
 * exactly one probe site, so one uprobe covers every call.
 */
static __attribute__((noinline)) void fire_tick(long seq, long value,
						 const char *msg)
{
	DTRACE_PROBE3(@name@, tick, seq, value, msg);
}

/* Called by ring_buffer__poll() for each record the BPF program sent. */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct @name@_event *e = data;
	char ts[16];
	struct tm tm;
	time_t t;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%-8s %-7d %-16s %-5lld %-7lld %-4d %s\n", ts, e->pid, e->comm,
	       (long long)e->seq, (long long)e->value, e->arg_cnt, e->msg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "interval",  required_argument, NULL, 'i' },
		{ "load-only", no_argument,       NULL, 'L' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ring_buffer *rb = NULL;
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	long duration = 0, interval_ms = 500, seq = 0;
	double start, deadline = 0, next_fire, t, wait_s;
	bool load_only = false;
	int opt, err = 0, nprogs = 0, timeout_ms;
	char msg[@NAME@_MSG_LEN];

	while ((opt = getopt_long(argc, argv, "vd:i:h", long_opts, NULL)) != -1) {
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
		case 'i':
			if (!parse_long(optarg, 1, &interval_ms)) {
				fprintf(stderr, "@name@: invalid interval '%s'\n", optarg);
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

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/* A kernel without BTF of its own: use the one btf-for made (custom_btf.h). */
	if (use_custom_btf("@name@", &open_opts))
		return 1;
	/* Open, then load: create the ring buffer map, verify the programs. */
	skel = @name@_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		fprintf(stderr, "@name@: failed to open BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
	err = @name@_bpf__load(skel);
	if (err) {
		fprintf(stderr, "@name@: failed to load BPF skeleton: %s\n", strerror(-err));
		goto cleanup;
	}

	if (load_only) {
		bpf_object__for_each_program(prog, skel->obj)
			nprogs++;
		printf("@name@: loaded %d programs (verifier accepted)\n", nprogs);
		goto cleanup;
	}

	/*
	 * Attach to our own probe: pid restricts the uprobe to this process;
	 * the binary is found through /proc/self/exe, whose ELF notes libbpf
	 * parses to find the probe address and argument specs. The link is
	 * stored in the skeleton so that __destroy() detaches it.
	 */
	skel->links.handle_tick = bpf_program__attach_usdt(skel->progs.handle_tick,
							   getpid(), "/proc/self/exe",
							   "@name@", "tick", NULL);
	if (!skel->links.handle_tick) {
		err = -errno;
		fprintf(stderr, "@name@: failed to attach to USDT probe @name@:tick: %s\n",
			strerror(errno));
		goto cleanup;
	}

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event,
			      NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "@name@: failed to create ring buffer: %s\n",
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

	printf("@name@: firing USDT probe @name@:tick every %ld ms in pid %d\n",
	       interval_ms, (int)getpid());
	printf("%-8s %-7s %-16s %-5s %-7s %-4s %s\n", "TIME", "PID", "COMM",
	       "SEQ", "VALUE", "ARGS", "MESSAGE");

	start = now_seconds();
	if (duration)
		deadline = start + duration;
	next_fire = start;
	while (!exiting) {
		t = now_seconds();
		if (deadline && t >= deadline)
			break;
		if (t >= next_fire) {
			/* Fire the probe: the uprobe traps into the kernel,
			 * the BPF program runs, then this call returns. */
			seq++;
			snprintf(msg, sizeof(msg), "tick %ld", seq);
			fire_tick(seq, (long)((t - start) * 1000), msg);
			next_fire += interval_ms / 1000.0;
		}
		/* Sleep in the ring buffer's epoll until the next tick (or
		 * the deadline), printing records as they arrive. */
		wait_s = next_fire - now_seconds();
		if (deadline && deadline - now_seconds() < wait_s)
			wait_s = deadline - now_seconds();
		timeout_ms = wait_s > 0 ? (int)(wait_s * 1000) + 1 : 0;
		err = ring_buffer__poll(rb, timeout_ms);
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
	}
	/* Print anything still queued. */
	ring_buffer__consume(rb);

cleanup:
	ring_buffer__free(rb);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
