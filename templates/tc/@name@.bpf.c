// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * @name@.bpf.c - kernel half of @name@.
 *
 * One BPF_PROG_TYPE_SCHED_CLS program, a traffic-control (tc) classifier.
 * User space attaches it to the ingress hook of a clsact qdisc, where it
 * runs for every packet the interface receives, after the kernel has built
 * the socket buffer (struct __sk_buff is the program's view of it). It
 * parses the headers, sends a summary of the packet to user space through
 * a ring buffer, and returns TC_ACT_OK so the packet continues unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>	/* SEC(), __uint(), helper prototypes */
#include <bpf/bpf_endian.h>	/* bpf_htons(), bpf_ntohs() */
#include "@name@.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* uapi macros that vmlinux.h (types and enums only) does not carry. */
/* TC_ACT_OK: the packet continues up the stack unchanged. In
 * direct-action mode the return value is the verdict, and any verdict but
 * TC_ACT_UNSPEC (-1) also ends the filter chain: lower-priority filters on
 * the same hook do not see the packet. */
#define TC_ACT_OK		0
#define ETH_TYPE_IPV4		0x0800
#define ETH_TYPE_IPV6		0x86DD
#define IP_PROTO_TCP		6
#define IP_PROTO_UDP		17

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* TCP and UDP both start with the two port numbers. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

/* Copy the ports if the transport header is TCP or UDP and lies inside
 * the packet. `l4` may carry a variable offset (IPv4 options), so the
 * bounds check is what makes the two loads legal for the verifier. */
static __always_inline void read_ports(struct @name@_event *e, void *l4,
				       void *data_end)
{
	struct l4_ports *ports = l4;

	if (e->ip_proto != IP_PROTO_TCP && e->ip_proto != IP_PROTO_UDP)
		return;
	if ((void *)(ports + 1) > data_end)
		return;
	e->sport = bpf_ntohs(ports->source);
	e->dport = bpf_ntohs(ports->dest);
}

/* SEC("tc"): libbpf loads it as SCHED_CLS; the interface and the hook
 * (ingress here) are chosen by bpf_tc_attach() in user space. */
SEC("tc")
int log_ingress(struct __sk_buff *skb)
{
	/* Direct packet access: data..data_end is the linear part of the
	 * buffer, starting at the Ethernet header. Every read must be
	 * covered by a comparison with data_end or the verifier rejects the
	 * program. (Headers beyond the linear part are simply not parsed
	 * here; bpf_skb_pull_data() could make them linear.) */
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct @name@_event *e;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;

	/* NULL when the ring buffer is full: drop the record, not the
	 * packet. The verifier requires this check before any write. */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return TC_ACT_OK;

	/* Reserved memory is not zeroed; clear it so no stale bytes from an
	 * earlier record reach user space. */
	__builtin_memset(e, 0, sizeof(*e));
	e->len = skb->len;
	e->eth_proto = bpf_ntohs(eth->h_proto);

	if (eth->h_proto == bpf_htons(ETH_TYPE_IPV4)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) <= data_end) {
			e->ip_version = 4;
			e->ip_proto = iph->protocol;
			__builtin_memcpy(e->saddr, &iph->saddr, 4);
			__builtin_memcpy(e->daddr, &iph->daddr, 4);
			/* ihl counts 32-bit words; it is at least 5. */
			if (iph->ihl >= 5)
				read_ports(e, (void *)iph + iph->ihl * 4,
					   data_end);
		}
	} else if (eth->h_proto == bpf_htons(ETH_TYPE_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) <= data_end) {
			e->ip_version = 6;
			e->ip_proto = ip6h->nexthdr;	/* no extension walk */
			__builtin_memcpy(e->saddr, &ip6h->saddr, 16);
			__builtin_memcpy(e->daddr, &ip6h->daddr, 16);
			read_ports(e, ip6h + 1, data_end);
		}
	}

	bpf_ringbuf_submit(e, 0);
	return TC_ACT_OK;
}
