/// A Linux release, `5.8`: the first two numbers of a version or release string.
public struct KernelVersion: Sendable, Codable, Comparable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `5.4`, `6.1.192-3`, `6.1.0-57-cloud-amd64 (debian-kernel@...)`: the leading `N.N`; nil for
    /// anything else (a package name, a file).
    public init?(parsing text: String) {
        let numbers = text.prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
        self.init(major, minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (left: KernelVersion, right: KernelVersion) -> Bool {
        (left.major, left.minor) < (right.major, right.minor)
    }
}

/// The first Linux release that has each program type, map type, helper and kfunc a BPF object can
/// use, from the kernel's history (the commits that added them; iovisor/bcc's
/// docs/kernel-versions.md lists most). Only facts known for certain are here: anything missing is
/// reported as not in the table rather than guessed.
package enum KernelHistory {
    /// libbpf's section names (a trailing `+` matches the name alone or followed by `/...`), most
    /// specific first as libbpf tries them, with what they load as.
    package static let sections: [(pattern: String, program: String, since: String)] = [
        ("socket", "socket filter (BPF_PROG_TYPE_SOCKET_FILTER)", "3.19"),
        ("sk_reuseport", "BPF_PROG_TYPE_SK_REUSEPORT", "4.19"),
        ("kprobe.multi+", "kprobe.multi (BPF_TRACE_KPROBE_MULTI link)", "5.18"),
        ("kretprobe.multi+", "kretprobe.multi (BPF_TRACE_KPROBE_MULTI link)", "5.18"),
        ("uprobe.multi+", "uprobe.multi (BPF_TRACE_UPROBE_MULTI link)", "6.6"),
        ("uretprobe.multi+", "uretprobe.multi (BPF_TRACE_UPROBE_MULTI link)", "6.6"),
        ("kprobe+", "kprobe (BPF_PROG_TYPE_KPROBE)", "4.1"),
        ("kretprobe+", "kretprobe (BPF_PROG_TYPE_KPROBE)", "4.1"),
        ("ksyscall+", "ksyscall (a kprobe, BPF_PROG_TYPE_KPROBE)", "4.1"),
        ("kretsyscall+", "kretsyscall (a kprobe, BPF_PROG_TYPE_KPROBE)", "4.1"),
        ("uprobe+", "uprobe (BPF_PROG_TYPE_KPROBE on a uprobe)", "4.3"),
        ("uretprobe+", "uretprobe (BPF_PROG_TYPE_KPROBE on a uprobe)", "4.3"),
        ("usdt+", "usdt (BPF_PROG_TYPE_KPROBE on a uprobe)", "4.3"),
        ("tcx/ingress", "tcx (BPF_TCX_INGRESS link)", "6.6"),
        ("tcx/egress", "tcx (BPF_TCX_EGRESS link)", "6.6"),
        ("tc", "tc classifier, direct-action on a clsact qdisc (BPF_PROG_TYPE_SCHED_CLS)", "4.5"),
        ("classifier", "tc classifier (BPF_PROG_TYPE_SCHED_CLS)", "4.1"),
        ("action", "tc action (BPF_PROG_TYPE_SCHED_ACT)", "4.1"),
        ("tracepoint+", "tracepoint (BPF_PROG_TYPE_TRACEPOINT)", "4.7"),
        ("tp+", "tracepoint (BPF_PROG_TYPE_TRACEPOINT)", "4.7"),
        ("raw_tracepoint.w+", "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", "5.2"),
        ("raw_tp.w+", "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", "5.2"),
        ("raw_tracepoint+", "raw tracepoint (BPF_PROG_TYPE_RAW_TRACEPOINT)", "4.17"),
        ("raw_tp+", "raw tracepoint (BPF_PROG_TYPE_RAW_TRACEPOINT)", "4.17"),
        ("tp_btf+", "BTF tracepoint (BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP)", "5.5"),
        ("fentry+", "fentry (BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY)", "5.5"),
        ("fexit+", "fexit (BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT)", "5.5"),
        ("fmod_ret+", "fmod_ret (BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN)", "5.6"),
        ("fentry.s+", "sleepable fentry (BPF_PROG_TYPE_TRACING)", "5.10"),
        ("fexit.s+", "sleepable fexit (BPF_PROG_TYPE_TRACING)", "5.10"),
        ("fmod_ret.s+", "sleepable fmod_ret (BPF_PROG_TYPE_TRACING)", "5.10"),
        ("freplace+", "freplace (BPF_PROG_TYPE_EXT)", "5.6"),
        ("lsm+", "BPF LSM (BPF_PROG_TYPE_LSM)", "5.7"),
        ("lsm.s+", "sleepable BPF LSM (BPF_PROG_TYPE_LSM)", "5.10"),
        ("lsm_cgroup+", "cgroup BPF LSM (BPF_LSM_CGROUP)", "6.0"),
        ("iter+", "iterator (BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER)", "5.8"),
        ("syscall", "BPF_PROG_TYPE_SYSCALL", "5.14"),
        ("xdp.frags", "XDP with fragments (BPF_F_XDP_HAS_FRAGS)", "5.18"),
        ("xdp/devmap", "XDP in a devmap (BPF_XDP_DEVMAP)", "5.8"),
        ("xdp/cpumap", "XDP in a cpumap (BPF_XDP_CPUMAP)", "5.9"),
        ("xdp", "XDP (BPF_PROG_TYPE_XDP)", "4.8"),
        ("perf_event", "perf_event (BPF_PROG_TYPE_PERF_EVENT)", "4.9"),
        ("lwt_in", "BPF_PROG_TYPE_LWT_IN", "4.10"),
        ("lwt_out", "BPF_PROG_TYPE_LWT_OUT", "4.10"),
        ("lwt_xmit", "BPF_PROG_TYPE_LWT_XMIT", "4.10"),
        ("lwt_seg6local", "BPF_PROG_TYPE_LWT_SEG6LOCAL", "4.18"),
        ("sockops", "BPF_PROG_TYPE_SOCK_OPS", "4.13"),
        ("sk_skb/stream_parser", "BPF_PROG_TYPE_SK_SKB", "4.14"),
        ("sk_skb/stream_verdict", "BPF_PROG_TYPE_SK_SKB", "4.14"),
        ("sk_msg", "BPF_PROG_TYPE_SK_MSG", "4.17"),
        ("lirc_mode2", "BPF_PROG_TYPE_LIRC_MODE2", "4.18"),
        ("flow_dissector", "BPF_PROG_TYPE_FLOW_DISSECTOR", "4.20"),
        ("cgroup_skb/ingress", "cgroup skb (BPF_PROG_TYPE_CGROUP_SKB)", "4.10"),
        ("cgroup_skb/egress", "cgroup skb (BPF_PROG_TYPE_CGROUP_SKB)", "4.10"),
        ("cgroup/skb", "cgroup skb (BPF_PROG_TYPE_CGROUP_SKB)", "4.10"),
        ("cgroup/sock_create", "BPF_PROG_TYPE_CGROUP_SOCK", "4.10"),
        ("cgroup/sock", "BPF_PROG_TYPE_CGROUP_SOCK", "4.10"),
        ("cgroup/post_bind4", "BPF_PROG_TYPE_CGROUP_SOCK (post_bind)", "4.17"),
        ("cgroup/post_bind6", "BPF_PROG_TYPE_CGROUP_SOCK (post_bind)", "4.17"),
        ("cgroup/bind4", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (bind)", "4.17"),
        ("cgroup/bind6", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (bind)", "4.17"),
        ("cgroup/connect4", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (connect)", "4.17"),
        ("cgroup/connect6", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (connect)", "4.17"),
        ("cgroup/sendmsg4", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (sendmsg)", "4.18"),
        ("cgroup/sendmsg6", "BPF_PROG_TYPE_CGROUP_SOCK_ADDR (sendmsg)", "4.18"),
        ("cgroup/sysctl", "BPF_PROG_TYPE_CGROUP_SYSCTL", "5.2"),
        ("cgroup/getsockopt", "BPF_PROG_TYPE_CGROUP_SOCKOPT", "5.3"),
        ("cgroup/setsockopt", "BPF_PROG_TYPE_CGROUP_SOCKOPT", "5.3"),
        ("cgroup/dev", "BPF_PROG_TYPE_CGROUP_DEVICE", "4.15"),
        ("struct_ops+", "BPF_PROG_TYPE_STRUCT_OPS", "5.6"),
        ("sk_lookup", "BPF_PROG_TYPE_SK_LOOKUP", "5.9"),
        ("netfilter", "BPF_PROG_TYPE_NETFILTER", "6.4"),
    ]

    /// `enum bpf_map_type` by number (include/uapi/linux/bpf.h).
    package static let mapTypes: [(name: String, since: String)] = [
        ("BPF_MAP_TYPE_UNSPEC", ""), ("BPF_MAP_TYPE_HASH", "3.19"), ("BPF_MAP_TYPE_ARRAY", "3.19"),
        ("BPF_MAP_TYPE_PROG_ARRAY", "4.2"), ("BPF_MAP_TYPE_PERF_EVENT_ARRAY", "4.3"), ("BPF_MAP_TYPE_PERCPU_HASH", "4.6"),
        ("BPF_MAP_TYPE_PERCPU_ARRAY", "4.6"), ("BPF_MAP_TYPE_STACK_TRACE", "4.6"), ("BPF_MAP_TYPE_CGROUP_ARRAY", "4.8"),
        ("BPF_MAP_TYPE_LRU_HASH", "4.10"), ("BPF_MAP_TYPE_LRU_PERCPU_HASH", "4.10"), ("BPF_MAP_TYPE_LPM_TRIE", "4.11"),
        ("BPF_MAP_TYPE_ARRAY_OF_MAPS", "4.12"), ("BPF_MAP_TYPE_HASH_OF_MAPS", "4.12"), ("BPF_MAP_TYPE_DEVMAP", "4.14"),
        ("BPF_MAP_TYPE_SOCKMAP", "4.14"), ("BPF_MAP_TYPE_CPUMAP", "4.15"), ("BPF_MAP_TYPE_XSKMAP", "4.18"),
        ("BPF_MAP_TYPE_SOCKHASH", "4.18"), ("BPF_MAP_TYPE_CGROUP_STORAGE", "4.19"), ("BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", "4.19"),
        ("BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", "4.20"), ("BPF_MAP_TYPE_QUEUE", "4.20"), ("BPF_MAP_TYPE_STACK", "4.20"),
        ("BPF_MAP_TYPE_SK_STORAGE", "5.2"), ("BPF_MAP_TYPE_DEVMAP_HASH", "5.4"), ("BPF_MAP_TYPE_STRUCT_OPS", "5.6"),
        ("BPF_MAP_TYPE_RINGBUF", "5.8"), ("BPF_MAP_TYPE_INODE_STORAGE", "5.10"), ("BPF_MAP_TYPE_TASK_STORAGE", "5.11"),
        ("BPF_MAP_TYPE_BLOOM_FILTER", "5.16"), ("BPF_MAP_TYPE_USER_RINGBUF", "6.1"), ("BPF_MAP_TYPE_CGRP_STORAGE", "6.2"),
        ("BPF_MAP_TYPE_ARENA", "6.9"),
    ]

    /// `enum bpf_func_id` by number (the FN() list of include/uapi/linux/bpf.h); the helper is
    /// `bpf_` + the name.
    package static let helperNames: [String] = """
        unspec map_lookup_elem map_update_elem map_delete_elem probe_read ktime_get_ns trace_printk get_prandom_u32
        get_smp_processor_id skb_store_bytes l3_csum_replace l4_csum_replace tail_call clone_redirect get_current_pid_tgid
        get_current_uid_gid get_current_comm get_cgroup_classid skb_vlan_push skb_vlan_pop skb_get_tunnel_key
        skb_set_tunnel_key perf_event_read redirect get_route_realm perf_event_output skb_load_bytes get_stackid csum_diff
        skb_get_tunnel_opt skb_set_tunnel_opt skb_change_proto skb_change_type skb_under_cgroup get_hash_recalc
        get_current_task probe_write_user current_task_under_cgroup skb_change_tail skb_pull_data csum_update
        set_hash_invalid get_numa_node_id skb_change_head xdp_adjust_head probe_read_str get_socket_cookie get_socket_uid
        set_hash setsockopt skb_adjust_room redirect_map sk_redirect_map sock_map_update xdp_adjust_meta
        perf_event_read_value perf_prog_read_value getsockopt override_return sock_ops_cb_flags_set msg_redirect_map
        msg_apply_bytes msg_cork_bytes msg_pull_data bind xdp_adjust_tail skb_get_xfrm_state get_stack
        skb_load_bytes_relative fib_lookup sock_hash_update msg_redirect_hash sk_redirect_hash lwt_push_encap
        lwt_seg6_store_bytes lwt_seg6_adjust_srh lwt_seg6_action rc_repeat rc_keydown skb_cgroup_id get_current_cgroup_id
        get_local_storage sk_select_reuseport skb_ancestor_cgroup_id sk_lookup_tcp sk_lookup_udp sk_release map_push_elem
        map_pop_elem map_peek_elem msg_push_data msg_pop_data rc_pointer_rel spin_lock spin_unlock sk_fullsock tcp_sock
        skb_ecn_set_ce get_listener_sock skc_lookup_tcp tcp_check_syncookie sysctl_get_name sysctl_get_current_value
        sysctl_get_new_value sysctl_set_new_value strtol strtoul sk_storage_get sk_storage_delete send_signal
        tcp_gen_syncookie skb_output probe_read_user probe_read_kernel probe_read_user_str probe_read_kernel_str
        tcp_send_ack send_signal_thread jiffies64 read_branch_records get_ns_current_pid_tgid xdp_output get_netns_cookie
        get_current_ancestor_cgroup_id sk_assign ktime_get_boot_ns seq_printf seq_write sk_cgroup_id sk_ancestor_cgroup_id
        ringbuf_output ringbuf_reserve ringbuf_submit ringbuf_discard ringbuf_query csum_level skc_to_tcp6_sock
        skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock get_task_stack load_hdr_opt
        store_hdr_opt reserve_hdr_opt inode_storage_get inode_storage_delete d_path copy_from_user snprintf_btf
        seq_printf_btf skb_cgroup_classid redirect_neigh per_cpu_ptr this_cpu_ptr redirect_peer task_storage_get
        task_storage_delete get_current_task_btf bprm_opts_set ktime_get_coarse_ns ima_inode_hash sock_from_file check_mtu
        for_each_map_elem snprintf sys_bpf btf_find_by_name_kind sys_close timer_init timer_set_callback timer_start
        timer_cancel get_func_ip get_attach_cookie task_pt_regs get_branch_snapshot trace_vprintk skc_to_unix_sock
        kallsyms_lookup_name find_vma loop strncmp get_func_arg get_func_ret get_func_arg_cnt get_retval set_retval
        xdp_get_buff_len xdp_load_bytes xdp_store_bytes copy_from_user_task skb_set_tstamp ima_file_hash kptr_xchg
        map_lookup_percpu_elem skc_to_mptcp_sock dynptr_from_mem ringbuf_reserve_dynptr ringbuf_submit_dynptr
        ringbuf_discard_dynptr dynptr_read dynptr_write dynptr_data tcp_raw_gen_syncookie_ipv4 tcp_raw_gen_syncookie_ipv6
        tcp_raw_check_syncookie_ipv4 tcp_raw_check_syncookie_ipv6 ktime_get_tai_ns user_ringbuf_drain
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { "bpf_" + $0 }

    /// The release that added each helper, by the names above.
    package static let helpers: [String: String] = {
        var table: [String: String] = [:]
        for (since, names) in [
            ("3.19", "map_lookup_elem map_update_elem map_delete_elem"),
            ("4.1", "probe_read ktime_get_ns trace_printk get_prandom_u32 get_smp_processor_id skb_store_bytes l3_csum_replace l4_csum_replace"),
            ("4.2", "tail_call clone_redirect get_current_pid_tgid get_current_uid_gid get_current_comm"),
            ("4.3", "get_cgroup_classid skb_vlan_push skb_vlan_pop skb_get_tunnel_key skb_set_tunnel_key perf_event_read"),
            ("4.4", "redirect get_route_realm perf_event_output"),
            ("4.5", "skb_load_bytes"),
            ("4.6", "get_stackid csum_diff skb_get_tunnel_opt skb_set_tunnel_opt"),
            ("4.8", "skb_change_proto skb_change_type skb_under_cgroup get_hash_recalc get_current_task probe_write_user"),
            ("4.9", "current_task_under_cgroup skb_change_tail skb_pull_data csum_update set_hash_invalid"),
            ("4.10", "get_numa_node_id skb_change_head xdp_adjust_head"),
            ("4.11", "probe_read_str"),
            ("4.12", "get_socket_cookie get_socket_uid"),
            ("4.13", "set_hash setsockopt skb_adjust_room"),
            ("4.14", "redirect_map sk_redirect_map sock_map_update"),
            ("4.15", "xdp_adjust_meta perf_event_read_value perf_prog_read_value getsockopt"),
            ("4.16", "override_return sock_ops_cb_flags_set"),
            ("4.17", "msg_redirect_map msg_apply_bytes msg_cork_bytes msg_pull_data bind"),
            ("4.18", "xdp_adjust_tail skb_get_xfrm_state get_stack skb_load_bytes_relative fib_lookup sock_hash_update msg_redirect_hash sk_redirect_hash lwt_push_encap lwt_seg6_store_bytes lwt_seg6_adjust_srh lwt_seg6_action rc_repeat rc_keydown skb_cgroup_id get_current_cgroup_id"),
            ("4.19", "get_local_storage sk_select_reuseport skb_ancestor_cgroup_id"),
            ("4.20", "sk_lookup_tcp sk_lookup_udp sk_release map_push_elem map_pop_elem map_peek_elem msg_push_data"),
            ("5.0", "msg_pop_data rc_pointer_rel"),
            ("5.1", "spin_lock spin_unlock sk_fullsock tcp_sock skb_ecn_set_ce get_listener_sock"),
            ("5.2", "skc_lookup_tcp tcp_check_syncookie sysctl_get_name sysctl_get_current_value sysctl_get_new_value sysctl_set_new_value strtol strtoul sk_storage_get sk_storage_delete"),
            ("5.3", "send_signal tcp_gen_syncookie"),
            ("5.5", "skb_output probe_read_user probe_read_kernel probe_read_user_str probe_read_kernel_str"),
            ("5.8", "ringbuf_output ringbuf_reserve ringbuf_submit ringbuf_discard ringbuf_query seq_printf seq_write ktime_get_boot_ns"),
            ("5.10", "d_path copy_from_user per_cpu_ptr this_cpu_ptr"),
            ("5.11", "get_current_task_btf task_storage_get task_storage_delete ktime_get_coarse_ns"),
            ("5.13", "for_each_map_elem snprintf"),
            ("5.15", "timer_init timer_set_callback timer_start timer_cancel get_func_ip get_attach_cookie"),
            ("5.16", "trace_vprintk"),
            ("5.17", "loop strncmp find_vma get_func_arg get_func_ret get_func_arg_cnt"),
            ("5.19", "kptr_xchg dynptr_from_mem ringbuf_reserve_dynptr ringbuf_submit_dynptr ringbuf_discard_dynptr dynptr_read dynptr_write"),
            ("6.1", "user_ringbuf_drain"),
        ] {
            for name in names.split(separator: " ") { table["bpf_" + name] = since }
        }
        return table
    }()

    /// Kernel functions (kfuncs) by name; calling any kfunc needs 5.13.
    package static let kfuncs: [String: String] = [
        "bpf_iter_num_new": "6.4", "bpf_iter_num_next": "6.4", "bpf_iter_num_destroy": "6.4",
        "bpf_rcu_read_lock": "6.2", "bpf_rcu_read_unlock": "6.2",
        "bpf_cast_to_kern_ctx": "6.2", "bpf_rdonly_cast": "6.2",
        "bpf_task_acquire": "6.2", "bpf_task_release": "6.2",
        "bpf_obj_new_impl": "6.2", "bpf_obj_drop_impl": "6.2",
    ]
    package static let kfuncCalls = "5.13"
    /// Global variables (.rodata, .data, .bss as maps, BPF_PSEUDO_MAP_VALUE): bpf_printk's format
    /// string is one.
    package static let globalData = "5.2"
    /// Calls from one BPF function to another (BPF_PSEUDO_CALL).
    package static let functionCalls = "4.16"

    /// What a program in section `name` loads as, and since when; nil for a section libbpf does
    /// not know or this table does not date.
    package static func program(section name: String) -> (program: String, since: KernelVersion)? {
        for entry in sections {
            let matches = entry.pattern.hasSuffix("+")
                ? name == entry.pattern.dropLast() || name.hasPrefix(entry.pattern.dropLast() + "/")
                : name == entry.pattern
            if matches { return (entry.program, KernelVersion(parsing: entry.since)!) }
        }
        return nil
    }
}
