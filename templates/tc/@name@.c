// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.c - user-space half of @name@.
 *
 * Loads @name@.bpf.o through the skeleton (@name@.skel.h), makes sure the
 * interface has a clsact qdisc (the "hook"), attaches the classifier to its
 * ingress side, and prints one line per packet from the ring buffer. On
 * exit it removes its filter, and the qdisc too if it created it.
 *
 * Usage: @name@ [-v] [-d SECONDS] [--load-only] IFNAME
 */
#include <arpa/inet.h>
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
		"Usage: %s [-v] [-d SECONDS] [--load-only] IFNAME\n"
		"Log packets received on IFNAME from a tc ingress classifier.\n"
		"  -v, --verbose           print libbpf's debug messages\n"
		"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n"
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

static const char *proto_name(const struct @name@_event *e, char *buf,
			      size_t len)
{
	if (!e->ip_version) {
		if (e->eth_proto == 0x0806)
			return "ARP";
		snprintf(buf, len, "0x%04x", e->eth_proto);
		return buf;
	}
	switch (e->ip_proto) {
	case 1:   return "ICMP";
	case 6:   return "TCP";
	case 17:  return "UDP";
	case 58:  return "ICMPv6";
	case 132: return "SCTP";
	}
	snprintf(buf, len, "IP-%u", e->ip_proto);
	return buf;
}

/* "addr" or "addr:port" for IPv4, "addr" or "[addr]:port" for IPv6. */
static void format_endpoint(char *buf, size_t len, int version,
			    const __u8 *addr, __u16 port)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(version == 4 ? AF_INET : AF_INET6, addr, ip, sizeof(ip));
	if (!port)
		snprintf(buf, len, "%s", ip);
	else if (version == 4)
		snprintf(buf, len, "%s:%u", ip, port);
	else
		snprintf(buf, len, "[%s]:%u", ip, port);
}

/* Called by ring_buffer__poll() for each record the classifier submitted. */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct @name@_event *e = data;
	char ts[16], proto[16], src[64], dst[64];
	struct tm tm;
	time_t t;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

	if (e->ip_version) {
		format_endpoint(src, sizeof(src), e->ip_version, e->saddr,
				e->sport);
		format_endpoint(dst, sizeof(dst), e->ip_version, e->daddr,
				e->dport);
		printf("%-8s %-7s %-6u %s -> %s\n", ts,
		       proto_name(e, proto, sizeof(proto)), e->len, src, dst);
	} else {
		printf("%-8s %-7s %-6u -\n", ts,
		       proto_name(e, proto, sizeof(proto)), e->len);
	}
	return 0;
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
	/* The hook names the qdisc (ifindex + ingress); the opts name our
	 * filter on it. LIBBPF_OPTS zeroes the struct and sets its size. */
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc_opts);
	struct ring_buffer *rb = NULL;
	struct @name@_bpf *skel = NULL;
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct bpf_program *prog;
	struct sigaction sa;
	const char *ifname = NULL;
	bool load_only = false, hook_created = false, attached = false;
	double deadline = 0;
	long duration = 0;
	int opt, err = 0, nprogs = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "vd:h", long_opts, NULL)) != -1) {
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
		hook.ifindex = if_nametoindex(ifname);
		if (!hook.ifindex) {
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
	/* Open, then load: create the ring buffer map, verify the program. */
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

	/* Create the clsact qdisc. EEXIST means the interface already has
	 * one (another tool or a running @name@ made it): use it, and leave
	 * it in place on exit. */
	err = bpf_tc_hook_create(&hook);
	if (!err) {
		hook_created = true;
	} else if (err != -EEXIST) {
		fprintf(stderr, "@name@: failed to create clsact qdisc on %s: %s\n",
			ifname, strerror(-err));
		goto cleanup;
	}

	/* Add our program as a direct-action filter. Handle and priority are
	 * left 0 so the kernel picks free ones (several instances can share
	 * the hook); libbpf writes the chosen values back into tc_opts. */
	tc_opts.prog_fd = bpf_program__fd(skel->progs.log_ingress);
	err = bpf_tc_attach(&hook, &tc_opts);
	if (err) {
		fprintf(stderr, "@name@: failed to attach tc program to %s: %s\n",
			ifname, strerror(-err));
		goto cleanup;
	}
	attached = true;

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

	printf("@name@: attached to %s ingress (handle 0x%x, priority %u)\n",
	       ifname, tc_opts.handle, tc_opts.priority);
	printf("%-8s %-7s %-6s %s\n", "TIME", "PROTO", "LEN",
	       "SOURCE -> DESTINATION");

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
	if (attached) {
		/* bpf_tc_detach() identifies the filter by handle and priority
		 * only; the other fields must be zero. */
		tc_opts.prog_fd = 0;
		tc_opts.prog_id = 0;
		tc_opts.flags = 0;
		if (bpf_tc_detach(&hook, &tc_opts))
			fprintf(stderr, "@name@: failed to detach tc program: %s%s\n",
				strerror(errno),
				errno == EINVAL || errno == ENOENT ?
				" (qdisc or filter already removed)" : "");
	}
	if (hook_created) {
		/* Both directions together name the whole clsact qdisc: this
		 * deletes it, and any filter still on it. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		if (bpf_tc_hook_destroy(&hook))
			fprintf(stderr, "@name@: failed to remove clsact qdisc: %s\n",
				strerror(errno));
	}
	@name@_bpf__destroy(skel);
	return err ? 1 : 0;
}
