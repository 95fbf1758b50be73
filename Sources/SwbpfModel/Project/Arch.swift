#if canImport(Glibc)
import Glibc
#endif

/// The `__TARGET_ARCH_x` name that bpf_tracing.h uses to pick the PT_REGS layout.
public enum Arch {
    /// Maps a `uname -m` machine name the way libbpf-bootstrap's Makefile does.
    public static func bpfArch(forMachine machine: String) -> String {
        switch machine {
        case "x86_64", "i386", "i686": return "x86"
        case "aarch64", "arm64": return "arm64"
        case "ppc64le", "ppc64": return "powerpc"
        case "riscv64": return "riscv"
        case "loongarch64": return "loongarch"
        case "s390x": return "s390"
        default:
            if machine.hasPrefix("arm") { return "arm" }
            if machine.hasPrefix("mips") { return "mips" }
            return machine
        }
    }

    public static func hostMachine() -> String {
        var names = utsname()
        uname(&names)
        return withUnsafePointer(to: names.machine) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
    }
}
