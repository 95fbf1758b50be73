#if canImport(Glibc)
import Glibc
#endif

/// The kinds of BPF program the kernel loader probes, named as the loader prints them. Each is one
/// load (and, where it changes nothing outside swbpf, one attach) of a tiny program.
public enum ProgramKind: String, Sendable, Codable, CaseIterable, Comparable {
    case tracepoint
    case rawTracepoint = "raw_tracepoint"
    case tpBTF = "tp_btf"
    case kprobe
    case uprobe
    case perfEvent = "perf_event"
    case fentry
    case fexit
    case lsm
    case iter
    case xdp
    case schedCls = "sched_cls"
    case socketFilter = "socket_filter"
    case cgroupSkb = "cgroup_skb"

    /// `fentry programs`.
    public var programs: String {
        switch self {
        case .rawTracepoint: return "raw tracepoint programs"
        case .tpBTF: return "BTF tracepoint programs"
        case .perfEvent: return "perf_event programs"
        case .lsm: return "BPF LSM programs"
        case .iter: return "iterator programs"
        case .xdp: return "XDP programs"
        case .schedCls: return "tc classifier programs"
        case .socketFilter: return "socket filter programs"
        case .cgroupSkb: return "cgroup skb programs"
        case .tracepoint, .kprobe, .uprobe, .fentry, .fexit: return "\(rawValue) programs"
        }
    }

    /// How doctor and verify name the kind: the section prefixes it covers.
    public var title: String {
        switch self {
        case .tracepoint: return "tracepoint (tp/, tracepoint/)"
        case .rawTracepoint: return "raw tracepoint (raw_tp/)"
        case .tpBTF: return "BTF tracepoint (tp_btf/)"
        case .kprobe: return "kprobe (kprobe/, kretprobe/, ksyscall/, kretsyscall/)"
        case .uprobe: return "uprobe (uprobe/, uretprobe/, usdt/)"
        case .perfEvent: return "perf_event"
        case .fentry: return "fentry (fentry/, fmod_ret/)"
        case .fexit: return "fexit (fexit/)"
        case .lsm: return "BPF LSM (lsm/)"
        case .iter: return "iterator (iter/)"
        case .xdp: return "XDP (xdp)"
        case .schedCls: return "tc classifier (tc, classifier)"
        case .socketFilter: return "socket filter (socket)"
        case .cgroupSkb: return "cgroup skb (cgroup_skb/)"
        }
    }

    /// Why an attach was not tried, for the kinds the loader only loads.
    package var attachNotTried: String {
        switch self {
        case .xdp, .schedCls: return "attaching changes a network interface, so it is not tried"
        case .socketFilter: return "attaching needs a socket of yours, so it is not tried"
        case .cgroupSkb: return "attaching changes a cgroup, so it is not tried"
        default: return "attaching was not tried"
        }
    }

    /// What to change when this kind cannot attach here.
    package var attachFix: String {
        switch self {
        case .kprobe: return "a kernel built with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y; or trace a tracepoint instead"
        case .uprobe: return "a kernel built with CONFIG_UPROBES=y and CONFIG_UPROBE_EVENTS=y"
        case .tracepoint: return "a kernel with CONFIG_FTRACE_SYSCALLS=y for syscall tracepoints, and tracefs mounted (mount -t tracefs nodev /sys/kernel/tracing)"
        case .perfEvent: return "perf events for your user: run as root, or lower kernel.perf_event_paranoid (sysctl kernel.perf_event_paranoid=1)"
        case .fentry, .fexit, .tpBTF, .lsm, .iter:
            return "a kernel whose BTF and trampolines are enabled (CONFIG_DEBUG_INFO_BTF=y, x86-64 or arm64) and whose security policy allows them; for lsm also 'bpf' in the lsm= boot parameter"
        case .rawTracepoint, .xdp, .schedCls, .socketFilter, .cgroupSkb: return "a kernel with this program type enabled"
        }
    }

    /// What to change when the kernel refuses to load this kind with `status`.
    package func loadFix(_ status: Int32) -> String {
        guard status == EPERM else { return attachFix }
        return "nothing in a program can change this: the kernel's policy (lockdown, a security module) forbids \(programs) even to root; "
            + "use another kind (tracepoints, or kprobes where the kernel has them), or another kernel" + (self == .lsm ? "; BPF LSM also needs 'bpf' in the lsm= boot parameter" : "")
    }

    /// The kind a program belongs to, from its ELF section as libbpf reads it (`tp/syscalls/x`,
    /// `uprobe.s//bin/sh:main`, `xdp.frags`): its first word, without libbpf's `.s`-style flags.
    public static func of(section: String) -> ProgramKind? {
        let head = section.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? section
        let word = head.split(separator: ".", maxSplits: 1).first.map(String.init) ?? head
        switch word {
        case "tp", "tracepoint": return .tracepoint
        case "raw_tp", "raw_tracepoint": return .rawTracepoint
        case "tp_btf": return .tpBTF
        case "kprobe", "kretprobe", "ksyscall", "kretsyscall": return .kprobe
        case "uprobe", "uretprobe", "usdt": return .uprobe
        case "perf_event": return .perfEvent
        case "fentry", "fmod_ret": return .fentry
        case "fexit": return .fexit
        case "lsm", "lsm_cgroup": return .lsm
        case "iter": return .iter
        case "xdp": return .xdp
        case "tc", "tcx", "classifier": return .schedCls
        case "socket": return .socketFilter
        case "cgroup_skb": return .cgroupSkb
        default: return nil
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What the kernel answered for one kind: the load's errno (0 when it loaded), and the attach's
/// (nil when it was not tried: the load failed, or attaching would change the machine).
public struct KernelProbe: Sendable, Equatable, Codable {
    public var kind: ProgramKind
    public var loadErrno: Int32
    public var attachErrno: Int32?
    /// What the probe attached to (a function, an event, a hook), or what it looked for.
    public var target: String?

    public var loads: Bool { loadErrno == 0 }
    /// Loads, and attaching either worked or was not tried.
    public var usable: Bool { loads && (attachErrno ?? 0) == 0 }

    /// `load and attach to syscalls/sys_enter_write`, `refused at load: EPERM (Operation not permitted)`.
    public var summary: String {
        if !loads { return "refused at load: \(Errno.describe(loadErrno))" }
        guard let attach = attachErrno else { return "load (\(kind.attachNotTried))" }
        if attach == 0 { return "load and attach" + (target.map { " (tried on \($0))" } ?? "") }
        return "load, but cannot attach: \(attachFailure(attach))"
    }

    package func attachFailure(_ attach: Int32) -> String {
        var text = Errno.describe(attach)
        if kind == .kprobe || kind == .uprobe, let target, target.hasPrefix("/sys/bus/event_source/devices/") {
            text += " (this kernel has no \(kind.rawValue) PMU at \(target)"
            text += kind == .kprobe ? " and no kprobe_events in tracefs)" : ")"
        } else if let target {
            text += " (tried on \(target))"
        }
        return text
    }

    package init(kind: ProgramKind, loadErrno: Int32, attachErrno: Int32? = nil, target: String? = nil) {
        self.kind = kind
        self.loadErrno = loadErrno
        self.attachErrno = attachErrno
        self.target = target
    }
}

/// The kernel's answers to the loader's probes.
public struct KernelFeatures: Sendable, Equatable {
    public var libbpfVersion = ""
    public var probes: [ProgramKind: KernelProbe] = [:]
    /// Map types, by the loader's name: 0 when supported, else an errno.
    public var maps: [String: Int32] = [:]

    public init() {}

    /// Why a program of `kind` would not run here, or nil when it would (or was not probed).
    public func problem(for kind: ProgramKind) -> String? {
        guard let probe = probes[kind], !probe.usable else { return nil }
        return probe.summary
    }

    /// Why a program of `kind` that loads would not attach here, or nil.
    public func attachProblem(for kind: ProgramKind) -> String? {
        guard let probe = probes[kind], !probe.usable else { return nil }
        return probe.attachErrno.map(probe.attachFailure) ?? probe.summary
    }
}

/// errno values as their names and texts: `EPERM (Operation not permitted)`.
public enum Errno {
    package static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", E2BIG: "E2BIG", ENOEXEC: "ENOEXEC",
        EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", ENODEV: "ENODEV", EINVAL: "EINVAL", ENOSPC: "ENOSPC", ERANGE: "ERANGE", ENOSYS: "ENOSYS",
        EOPNOTSUPP: "EOPNOTSUPP", ELOOP: "ELOOP", 524: "ENOTSUPP",
    ]

    public static func name(_ code: Int32) -> String { names[code] ?? "errno \(code)" }

    public static func text(_ code: Int32) -> String {
        // 524 is the kernel's internal ENOTSUPP, which libc does not know.
        code == 524 ? "Operation is not supported" : String(cString: strerror(code))
    }

    public static func describe(_ code: Int32) -> String { "\(name(code)) (\(text(code)))" }
}
