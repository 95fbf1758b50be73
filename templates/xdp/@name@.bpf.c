// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * One BPF_PROG_TYPE_XDP program. XDP runs on the receive path of a network
 * interface, before the kernel allocates a socket buffer (native mode, in
 * the driver) or right after (generic mode, any interface). It parses the
 * Ethernet and IP headers, counts the packet under its IP protocol number
 * (the IPv4 "protocol" field or the IPv6 upper-layer "next header") in a
 * per-CPU array, and lets every packet through with XDP_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/bpf_endian.h>	/* bpf_htons() */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Ethernet types and IPv6 extension header numbers are macros in the
 * kernel's uapi headers, so vmlinux.h (types and enums only) lacks them. */
#define ETH_TYPE_IPV4		0x0800
#define ETH_TYPE_IPV6		0x86DD
#define IP6_EXT_HOPOPTS		0
#define IP6_EXT_ROUTING		43
#define IP6_EXT_FRAGMENT	44
#define IP6_EXT_DSTOPTS		60
#define IP6_MAX_EXT_HDRS	4

/*
 * counts[protocol] = packets seen. PERCPU_ARRAY gives every CPU its own
 * copy of each value, so the increment below needs no atomic operation;
 * user space sums the copies. Array entries always exist (zeroed), and
 * 256 entries cover every 8-bit protocol number.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/*
 * Walk over IPv6 extension headers to the upper-layer protocol. The loop
 * has a constant bound, which is what the verifier needs to prove it ends
 * (bounded loops: Linux 5.3+). Each header's length is read from the
 * packet, so `cur` carries a variable offset; the verifier accepts the
 * read of `opt` only after the explicit check against data_end.
 */
static __always_inline __u8 ipv6_upper_proto(void *cur, void *data_end,
					      __u8 nexthdr)
{
	struct ipv6_opt_hdr *opt;
	int i;

	for (i = 0; i < IP6_MAX_EXT_HDRS; i++) {
		if (nexthdr != IP6_EXT_HOPOPTS && nexthdr != IP6_EXT_ROUTING &&
		    nexthdr != IP6_EXT_FRAGMENT && nexthdr != IP6_EXT_DSTOPTS)
			break;
		opt = cur;
		if ((void *)(opt + 1) > data_end)
			break;	/* truncated: count the extension header */
		/* Fragment headers are 8 bytes; the others give their length
		 * in 8-byte units, not counting the first 8. */
		if (nexthdr == IP6_EXT_FRAGMENT)
			cur += 8;
		else
			cur += (opt->hdrlen + 1) * 8;
		nexthdr = opt->nexthdr;
	}
	return nexthdr;
}

/* SEC("xdp"): libbpf sets the program type; the interface is chosen at
 * attach time by user space. The context describes the packet buffer. */
SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	/* Packet bounds. Every read must be proven to stay below data_end:
	 * the verifier tracks each pointer derived from ctx->data and rejects
	 * the program if any access is not covered by a comparison. */
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 proto;
	__u64 *count;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_TYPE_IPV4)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		proto = iph->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_TYPE_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return XDP_PASS;
		proto = ipv6_upper_proto(ip6h + 1, data_end, ip6h->nexthdr);
	} else {
		return XDP_PASS;	/* ARP, VLAN-tagged, ...: not counted */
	}

	/* Even for an array the verifier requires the NULL check: the key is
	 * only known at run time and could be out of range. */
	count = bpf_map_lookup_elem(&counts, &proto);
	if (count)
		*count += 1;	/* this CPU's slot: no other CPU writes it */

	return XDP_PASS;
}
