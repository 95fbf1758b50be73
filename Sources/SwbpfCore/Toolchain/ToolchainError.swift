/// A tool, libbpf or a vmlinux.h that cannot be found or used.
public enum ToolchainError: DiagnosticError, Equatable {
    case toolNotFound(tool: String, tried: [String], package: String, knob: String)
    case toolProbeFailed(tool: String, command: String, output: String)
    case clangWithoutBPFTarget(clang: String, version: String)
    case libbpfNotFound(tried: [String])
    case noVmlinuxSource(btfPath: String)
    case vmlinuxSourceMissing(path: String, origin: String)
    /// A Swift app needs swiftc, which no Debian package provides.
    case swiftcNotFound(tried: [String], apps: [String])

    public var diagnostic: Diagnostic {
        switch self {
        case .swiftcNotFound(let tried, let apps):
            return Diagnostic(.error, "swiftc not found, and \(apps.joined(separator: ", ")) \(apps.count == 1 ? "is a Swift app" : "are Swift apps") (looked for: \(tried.joined(separator: ", ")))",
                              help: "install a Swift toolchain (6.0 or later) from https://www.swift.org/install/linux/ (the tarball, or swiftly) and put its usr/bin on PATH, or set SWIFTC to its swiftc")
        case .toolNotFound(let tool, let tried, let package, let knob):
            return Diagnostic(.error, "\(tool) not found (looked for: \(tried.joined(separator: ", ")))",
                              help: "install it with 'apt-get install \(package)', or set \(knob) to its path")
        case .toolProbeFailed(let tool, let command, let output):
            return Diagnostic(.error, "could not query \(tool): '\(command)' failed\n\(output)", help: "check that \(tool) runs on this machine")
        case .clangWithoutBPFTarget(let clang, let version):
            return Diagnostic(.error, "\(clang) (\(version)) cannot generate eBPF code: 'bpf' is not among its targets ('\(clang) -print-targets')",
                              help: "install Debian's clang (apt-get install clang llvm) or point CLANG at a clang built with the BPF target")
        case .libbpfNotFound(let tried):
            return Diagnostic(.error, "libbpf.a not found (looked in: \(tried.joined(separator: ", ")))",
                              help: "install it with 'apt-get install libbpf-dev libelf-dev zlib1g-dev pkg-config', or set LIBBPF_OBJ to a libbpf.a (or [libbpf] archive in swbpf.toml)")
        case .noVmlinuxSource(let btfPath):
            return Diagnostic(.error, "cannot make vmlinux.h: this kernel has no BTF at \(btfPath) and the project names no vmlinux.h",
                              help: "either set VMLINUX (or vmlinux in swbpf.toml) to a vmlinux.h, or to a BTF file for your target kernel (for example one from BTFHub), or build on a kernel with CONFIG_DEBUG_INFO_BTF=y")
        case .vmlinuxSourceMissing(let path, let origin):
            return Diagnostic(.error, "vmlinux source '\(path)' (from \(origin)) does not exist",
                              help: "point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF")
        }
    }
}
