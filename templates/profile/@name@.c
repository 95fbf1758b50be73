// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * Loads @name@.bpf.o through the skeleton (@name@.skel.h), opens one
 * sampling perf event per online CPU (software CPU clock at -F HZ), attaches
 * the BPF program to each, and prints every sample from the ring buffer:
 * who was running and the raw kernel and user stack addresses (no symbol
 * lookup; see the README for how to resolve them).
 *
 * Usage: @name@ [-v] [-d SECONDS] [-F HZ] [-p PID] [--load-only]
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
#include <sys/syscall.h>
#include <linux/perf_event.h>
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
		"Usage: %s [-v] [-d SECONDS] [-F HZ] [-p PID] [--load-only]\n"
		"Sample kernel and user stacks on every CPU.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n"
		"  -F, --frequency HZ      samples per second per CPU (default 49)\n"
		"  -p, --pid PID           only sample this process\n"
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

/* glibc has no wrapper for perf_event_open(2). */
static int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu,
			   int group_fd, unsigned long flags)
{
	return syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

/*
 * Mark the online CPUs in online[0..ncpus-1] from the kernel's list, e.g.
 * "0-3,6". Returns 0 or a negative errno.
 */
static int read_online_cpus(bool *online, int ncpus)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int first, last, c, n;
	char sep;

	if (!f)
		return -errno;
	for (;;) {
		n = fscanf(f, "%d", &first);
		if (n != 1)
			break;
		last = first;
		sep = fgetc(f);
		if (sep == '-') {
			if (fscanf(f, "%d", &last) != 1)
				break;
			sep = fgetc(f);
		}
		for (c = first; c <= last && c < ncpus; c++)
			if (c >= 0)
				online[c] = true;
		if (sep != ',')
			break;
	}
	fclose(f);
	return 0;
}

static void print_stack(char kind, const __u64 *addrs, int bytes)
{
	int i, n = bytes / (int)sizeof(__u64);

	for (i = 0; i < n; i++)
		printf("    %c 0x%016llx\n", kind, (unsigned long long)addrs[i]);
}

/* Called by ring_buffer__poll() for each sample. */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct @name@_event *e = data;
	char ts[16], kf[12], uf[12];
	struct tm tm;
	time_t t;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

	/* Frame counts, or "-" when bpf_get_stack() failed (a kernel thread
	 * has no user stack, for example). */
	if (e->kstack_bytes >= 0)
		snprintf(kf, sizeof(kf), "%d", e->kstack_bytes / 8);
	else
		snprintf(kf, sizeof(kf), "-");
	if (e->ustack_bytes >= 0)
		snprintf(uf, sizeof(uf), "%d", e->ustack_bytes / 8);
	else
		snprintf(uf, sizeof(uf), "-");

	printf("%-8s %-3u %-7d %-7d %-16s %-7s %s\n", ts, e->cpu, e->pid,
	       e->tid, e->comm, kf, uf);
	print_stack('k', e->kstack, e->kstack_bytes);
	print_stack('u', e->ustack, e->ustack_bytes);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "pid",       required_argument, NULL, 'p' },
		{ "load-only", no_argument,       NULL, 'L' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct perf_event_attr attr;
	struct bpf_link **links = NULL;
	struct ring_buffer *rb = NULL;
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	bool *online = NULL, load_only = false;
	long duration = 0, freq = 49, pid = 0;
	double deadline = 0;
	int opt, err = 0, nprogs = 0, ncpus = 0, cpu, pfd, nattached = 0;

	while ((opt = getopt_long(argc, argv, "vd:F:p:h", long_opts, NULL)) != -1) {
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
		case 'F':
			if (!parse_long(optarg, 1, &freq)) {
				fprintf(stderr, "@name@: invalid frequency '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (!parse_long(optarg, 1, &pid)) {
				fprintf(stderr, "@name@: invalid pid '%s'\n", optarg);
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
	skel = @name@_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		fprintf(stderr, "@name@: failed to open BPF skeleton: %s\n",
			strerror(errno));
		return 1;
	}

	skel->rodata->target_pid = pid;

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

	/* Possible CPUs bound the CPU numbers; only online ones can count. */
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		err = ncpus;
		fprintf(stderr, "@name@: cannot count CPUs: %s\n", strerror(-err));
		goto cleanup;
	}
	online = calloc(ncpus, sizeof(*online));
	links = calloc(ncpus, sizeof(*links));
	if (!online || !links) {
		err = -ENOMEM;
		fprintf(stderr, "@name@: out of memory\n");
		goto cleanup;
	}
	err = read_online_cpus(online, ncpus);
	if (err) {
		fprintf(stderr, "@name@: cannot read online CPUs: %s\n",
			strerror(-err));
		goto cleanup;
	}

	/* A software event (no PMU needed, so it works in most VMs): the
	 * CPU clock, sampled `freq` times per second instead of every N
	 * events (freq = 1 selects frequency mode). */
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.freq = 1;
	attr.sample_freq = freq;

	for (cpu = 0; cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		/* pid -1, cpu N: every task that runs on CPU N. */
		pfd = perf_event_open(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			if (errno == ENODEV)
				continue;	/* went offline meanwhile */
			err = -errno;
			fprintf(stderr, "@name@: failed to open perf event on CPU %d: %s\n",
				cpu, strerror(errno));
			goto cleanup;
		}
		/* The link takes over the perf event fd: destroying the link
		 * disables the event and closes the fd. */
		links[cpu] = bpf_program__attach_perf_event(skel->progs.sample_stack,
							    pfd);
		if (!links[cpu]) {
			err = -errno;
			fprintf(stderr, "@name@: failed to attach to perf event on CPU %d: %s\n",
				cpu, strerror(errno));
			close(pfd);
			goto cleanup;
		}
		nattached++;
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

	if (duration)
		deadline = now_seconds() + duration;

	printf("@name@: sampling %d CPUs at %ld Hz\n", nattached, freq);
	printf("%-8s %-3s %-7s %-7s %-16s %-7s %s\n", "TIME", "CPU", "PID", "TID",
	       "COMM", "KFRAMES", "UFRAMES");

	while (!exiting) {
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
	ring_buffer__free(rb);
	/* Links were created by hand, not by the skeleton, so they are
	 * destroyed by hand; bpf_link__destroy() accepts NULL. */
	for (cpu = 0; links && cpu < ncpus; cpu++)
		bpf_link__destroy(links[cpu]);
	free(links);
	free(online);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
