import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// The pseudo file systems swbpf's kernel commands use: bpffs (for a throwaway pin directory) and
/// tracefs (for bpf_printk output and tracepoint ids), found in /proc/mounts and mounted at their
/// usual places when missing.
public enum KernelMounts {
    public static let bpffsDefault = "/sys/fs/bpf"
    public static let tracefsDefault = "/sys/kernel/tracing"

    /// Where a file system of `type` is mounted, preferring the usual places.
    public static func mountPoint(ofType type: String, preferring places: [String]) -> String? {
        let text = FileSystem.readText("/proc/mounts") ?? ""
        let targets = text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[2] == type else { return nil }
            return String(fields[1]).replacing("\\040", with: " ")
        }
        return places.first(where: targets.contains) ?? targets.first
    }

    public static var bpffs: String? { mountPoint(ofType: "bpf", preferring: [bpffsDefault]) }
    public static var tracefs: String? { mountPoint(ofType: "tracefs", preferring: [tracefsDefault, "/sys/kernel/debug/tracing"]) }

    /// The fix doctor prints for a missing mount.
    public static func mountCommand(type: String, at target: String) -> String {
        "mount -t \(type) \(type == "tracefs" ? "nodev" : type) \(target)"
    }

    /// bpffs's mount point, mounting it at /sys/fs/bpf first when it is nowhere; `note` hears when.
    public static func ensureBpffs(note: (String) -> Void) throws -> String {
        try ensure(type: "bpf", at: bpffsDefault, current: bpffs, note: note)
    }

    public static func ensureTracefs(note: (String) -> Void) throws -> String {
        try ensure(type: "tracefs", at: tracefsDefault, current: tracefs, note: note)
    }

    private static func ensure(type: String, at target: String, current: String?, note: (String) -> Void) throws -> String {
        if let current { return current }
        guard mount(type == "tracefs" ? "nodev" : type, target, type, 0, nil) == 0 else {
            throw KernelError.cannotMount(type: type, target: target, reason: String(cString: strerror(errno)),
                                          command: mountCommand(type: type, at: target))
        }
        note("swbpf: \(type == "bpf" ? "bpffs" : type) was not mounted; mounted it at \(target)")
        return target
    }
}

/// The effective capabilities that matter for loading and attaching BPF programs.
public struct Capabilities: Sendable, Equatable {
    public var bpf: Bool
    public var perfmon: Bool
    public var sysAdmin: Bool
    public var netAdmin: Bool

    /// Loading needs CAP_BPF, or CAP_SYS_ADMIN on kernels before 5.8 (which have no CAP_BPF).
    public var canLoadBPF: Bool { bpf || sysAdmin }

    package static let bpfBit = 39, perfmonBit = 38, sysAdminBit = 21, netAdminBit = 12

    /// From the CapEff line of /proc/self/status.
    public static func current() -> Capabilities {
        let status = FileSystem.readText("/proc/self/status") ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
        let mask = line.flatMap { UInt64($0.dropFirst("CapEff:".count).trimmed(), radix: 16) } ?? 0
        func has(_ bit: Int) -> Bool { mask & (1 << UInt64(bit)) != 0 }
        return Capabilities(bpf: has(bpfBit), perfmon: has(perfmonBit), sysAdmin: has(sysAdminBit), netAdmin: has(netAdminBit))
    }

    package init(bpf: Bool, perfmon: Bool, sysAdmin: Bool, netAdmin: Bool) {
        self.bpf = bpf
        self.perfmon = perfmon
        self.sysAdmin = sysAdmin
        self.netAdmin = netAdmin
    }
}
