/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * @name@.h - the record that @name@.bpf.c writes into the ring buffer for
 * each packet and @name@.c prints. Fixed-size types only: they come from
 * vmlinux.h in the kernel half and <linux/types.h> in the user half
 * (include one of them before this file).
 */
#ifndef __@NAME@_H
#define __@NAME@_H

struct @name@_event {
	__u32 len;		/* skb->len: bytes including the Ethernet header */
	__u16 eth_proto;	/* EtherType, host byte order */
	__u8 ip_version;	/* 4, 6, or 0 for non-IP frames */
	__u8 ip_proto;		/* IPv4 protocol / IPv6 next header */
	__u16 sport;		/* TCP/UDP ports, host byte order; */
	__u16 dport;		/* 0 for other protocols */
	__u8 saddr[16];		/* IPv4 uses the first 4 bytes */
	__u8 daddr[16];
};

#endif /* __@NAME@_H */
