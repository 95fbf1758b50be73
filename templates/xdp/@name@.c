// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * Loads @name@.bpf.o through the skeleton (@name@.skel.h), attaches the
 * XDP program to the interface named on the command line through a BPF
 * link, and once a second sums the per-CPU counters and prints the
 * protocols that have seen packets. Closing the link detaches the program.
 *
 * Usage: @name@ [-v] [-d SECONDS] [--skb | --native] [--load-only] IFNAME
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>	/* XDP_FLAGS_*, XDP_ATTACHED_* */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "custom_btf.h"
#include "@name@.skel.h"

#define NUM_PROTOS 256

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
		"Usage: %s [-v] [-d SECONDS] [--skb | --native] [--load-only] IFNAME\n"
		"Count packets received on IFNAME per IP protocol with XDP.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n"
		"  -S, --skb               generic XDP (works on every interface)\n"
		"  -N, --native            native (driver) XDP; fails if unsupported\n"
		"                          default: native if the driver supports it,\n"
		"                          generic otherwise (the kernel decides)\n"
		"  --load-only             load the program (verifier check) and exit;\n"
		"                          IFNAME is not needed\n"
		"  -h, --help              show this help\n",
		prog);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *proto_name(unsigned int proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:   return "ICMP";
	case 2:   return "IGMP";
	case 4:   return "IPIP";
	case 6:   return "TCP";
	case 17:  return "UDP";
	case 41:  return "IPv6";
	case 47:  return "GRE";
	case 50:  return "ESP";
	case 51:  return "AH";
	case 58:  return "ICMPv6";
	case 132: return "SCTP";
	case 136: return "UDPLite";
	}
	snprintf(buf, len, "PROTO-%u", proto);
	return buf;
}

/*
 * Read every protocol's counter and print the non-zero totals. A lookup
 * in a per-CPU map returns one value per *possible* CPU, so the buffer
 * holds libbpf_num_possible_cpus() values (8 bytes each, as the map
 * declares). Returns 0 or a negative errno.
 */
static int print_counts(struct bpf_map *map, __u64 *values, int ncpus)
{
	char ts[16], buf[16];
	unsigned int key;
	struct tm tm;
	time_t t;
	__u64 sum;
	int cpu;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

	for (key = 0; key < NUM_PROTOS; key++) {
		if (bpf_map__lookup_elem(map, &key, sizeof(key), values,
					 sizeof(__u64) * ncpus, 0))
			return -errno;
		sum = 0;
		for (cpu = 0; cpu < ncpus; cpu++)
			sum += values[cpu];
		if (sum)
			printf("%-8s %-10s %llu\n", ts,
			       proto_name(key, buf, sizeof(buf)),
			       (unsigned long long)sum);
	}
	return 0;
}

static const char *mode_name(__u8 attach_mode)
{
	switch (attach_mode) {
	case XDP_ATTACHED_DRV:	return "native";
	case XDP_ATTACHED_SKB:	return "generic";
	case XDP_ATTACHED_HW:	return "offloaded";
	case XDP_ATTACHED_MULTI: return "multiple";
	}
	return "unknown";
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "verbose",   no_argument,       NULL, 'v' },
		{ "duration",  required_argument, NULL, 'd' },
		{ "skb",       no_argument,       NULL, 'S' },
		{ "native",    no_argument,       NULL, 'N' },
		{ "load-only", no_argument,       NULL, 'L' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	LIBBPF_OPTS(bpf_link_create_opts, link_opts);
	LIBBPF_OPTS(bpf_xdp_query_opts, query_opts);
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	const char *ifname = NULL;
	__u64 *values = NULL;
	__u32 xdp_flags = 0;
	double deadline = 0, next_print, last_print = 0, t;
	bool load_only = false;
	long duration = 0;
	int opt, err = 0, nprogs = 0, link_fd = -1, ncpus;
	unsigned int ifindex = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "vd:SNh", long_opts, NULL)) != -1) {
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
		case 'S':
			xdp_flags = XDP_FLAGS_SKB_MODE;
			break;
		case 'N':
			xdp_flags = XDP_FLAGS_DRV_MODE;
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
	if (optind < argc)
		ifname = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "@name@: unexpected argument '%s'\n", argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}
	if (!ifname && !load_only) {
		fprintf(stderr, "@name@: missing interface name\n");
		usage(stderr, argv[0]);
		return 2;
	}
	if (ifname) {
		ifindex = if_nametoindex(ifname);
		if (!ifindex) {
			fprintf(stderr, "@name@: unknown interface '%s': %s\n",
				ifname, strerror(errno));
			return 1;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print_fn);

	/* A kernel without BTF of its own: use the one btf-for made (custom_btf.h). */
	if (use_custom_btf("@name@", &open_opts))
		return 1;
	/* Open, then load: create the map and run the verifier over the
	 * program. */
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

	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		err = ncpus;
		fprintf(stderr, "@name@: cannot count CPUs: %s\n", strerror(-err));
		goto cleanup;
	}
	values = calloc(ncpus, sizeof(*values));
	if (!values) {
		err = -ENOMEM;
		fprintf(stderr, "@name@: out of memory\n");
		goto cleanup;
	}

	/*
	 * Attach through a BPF link (BPF_XDP, Linux 5.9+) rather than the
	 * older netlink call: the link belongs to this process, so the program
	 * is detached when the link fd is closed, also if the process dies.
	 * The link also refuses to replace a program someone else attached.
	 * The mode flags select generic or native XDP; 0 lets the kernel use
	 * native mode when the driver implements it and generic otherwise.
	 */
	link_opts.flags = xdp_flags;
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.count_packets),
				  ifindex, BPF_XDP, &link_opts);
	if (link_fd < 0) {
		err = -errno;
		fprintf(stderr, "@name@: failed to attach XDP program to %s: %s%s\n",
			ifname, strerror(errno),
			xdp_flags == XDP_FLAGS_DRV_MODE && errno == EOPNOTSUPP ?
			" (driver has no native XDP; try --skb)" : "");
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

	/* Ask the kernel which mode it picked (informational only). */
	if (bpf_xdp_query(ifindex, 0, &query_opts) == 0)
		printf("@name@: attached to %s (ifindex %u) in %s mode\n", ifname,
		       ifindex, mode_name(query_opts.attach_mode));
	printf("%-8s %-10s %s\n", "TIME", "PROTO", "PACKETS");

	t = now_seconds();
	if (duration)
		deadline = t + duration;
	next_print = t + 1;
	while (!exiting) {
		usleep(100000);	/* returns early when a signal arrives */
		t = now_seconds();
		if (t >= next_print) {
			err = print_counts(skel->maps.counts, values, ncpus);
			if (err)
				break;
			last_print = t;
			next_print += 1;
		}
		if (deadline && t >= deadline)
			break;
	}
	/* Final totals, unless a line was printed a moment ago. */
	if (!err && now_seconds() - last_print > 0.2)
		err = print_counts(skel->maps.counts, values, ncpus);
	if (err)
		fprintf(stderr, "@name@: failed to read counters: %s\n",
			strerror(-err));

cleanup:
	/* Closing the last fd of the link detaches the program from the
	 * interface; destroying the skeleton frees the program and map. */
	if (link_fd >= 0)
		close(link_fd);
	free(values);
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
