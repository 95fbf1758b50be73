import SwbpfBasics

/// A tool, libbpf or a vmlinux.h that cannot be found or used.
public enum ToolchainError: DiagnosticError, Equatable {
    case toolNotFound(tool: String, tried: [String], package: String, knob: String)
    case toolProbeFailed(tool: String, command: String, output: String)
    case clangWithoutBPFTarget(clang: String, version: String)
    case libbpfNotFound(tried: [String])
    case noVmlinuxSource(btfPath: String)
    case vmlinuxSourceMissing(path: String, origin: String)
    /// A FIFO or device: bpftool or clang would block on it, or read it forever.
    case vmlinuxSourceNotAFile(path: String, origin: String, kind: String)
    /// A Swift app needs swiftc, which no Debian package provides.
    case swiftcNotFound(tried: [String], apps: [String])
    /// A header named other than vmlinux.h, which `#include "vmlinux.h"` cannot find.
    case vmlinuxHeaderMisnamed(path: String, origin: String)
    /// No compiler for a non-host target's user space.
    case noCrossCompiler(arch: String, triple: String, install: String, package: String)
    /// CROSS_COMPILE names a compiler that is not there; `installed` is the target's own cross
    /// compiler when that one is on PATH (then the prefix is what is wrong, not the machine).
    case crossCompilePrefixWrong(prefix: String, arch: String, triple: String, installed: String?)
    /// The target's kernel UAPI headers (asm/types.h) are not here.
    case targetHeadersMissing(arch: String, tried: [String], install: String)
    /// A library the target's link needs (libbpf.a, libelf, zlib; static ones for --static).
    case targetLibraryMissing(library: String, arch: String, tried: [String], install: String, package: String)
    /// A non-host target with no vmlinux.h for it: the running kernel's BTF is the host's.
    case noTargetVmlinux(arch: String, tried: [String])
    /// A target of the other byte order (big-endian s390 on a little-endian host), and a bpftool
    /// whose libbpf cannot open objects of that order.
    case crossEndianBpftool(arch: String, byteOrder: ByteOrder, bpftool: String, libbpf: String?)

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
        case .vmlinuxSourceNotAFile(let path, let origin, let kind):
            return Diagnostic(.error, "vmlinux source '\(path)' (from \(origin)) is \(kind), not a regular file",
                              help: "point it at a vmlinux.h or BTF file, or unset it to use the running kernel's BTF")
        case .vmlinuxSourceMissing(let path, let origin):
            return Diagnostic(.error, "vmlinux source '\(path)' (from \(origin)) does not exist",
                              help: "point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF")
        case .vmlinuxHeaderMisnamed(let path, let origin):
            return Diagnostic(.error, "vmlinux header '\(path)' (from \(origin)) is not named vmlinux.h: sources include \"vmlinux.h\", found through -I of the header's directory, where this file cannot be found by that name",
                              help: "point it at a file named vmlinux.h (libbpf/vmlinux.h's vmlinux.h links to its versioned file, as 'vmlinux.h -> vmlinux_6.18.h'), for example a directory of your own holding vmlinux.h as a link to or a copy of this file")
        case .noCrossCompiler(let arch, let triple, let install, let package):
            return Diagnostic(.error, "no C compiler for \(arch): \(triple)-gcc is not on PATH, and clang has no linker for \(triple) (\(triple)-ld or ld.lld)",
                              help: "install the cross toolchain (\(package)): '\(install)'; or set CROSS_COMPILE to your toolchain's prefix (CROSS_COMPILE=\(triple)-), or CC to a compiler for \(arch)")
        case .crossCompilePrefixWrong(let prefix, let arch, let triple, let installed):
            let found = installed.map { "\($0) is on PATH: set CROSS_COMPILE=\(triple)- (the prefix includes the trailing '-'), or unset it" }
            return Diagnostic(.error, "CROSS_COMPILE=\(prefix) names the compiler \(prefix)gcc, which is not on PATH",
                              help: found ?? "set CROSS_COMPILE to the prefix of a toolchain for \(arch) (CROSS_COMPILE=\(triple)- for Debian's), or unset it")
        case .targetHeadersMissing(let arch, let tried, let install):
            return Diagnostic(.error, "the kernel headers for \(arch) are not installed (looked for: \(tried.joined(separator: ", ")))",
                              help: "kernel parts include <asm/types.h> of the target: '\(install)'")
        case .targetLibraryMissing(let library, let arch, let tried, let install, let package):
            return Diagnostic(.error, "\(library) for \(arch) not found (looked for: \(tried.joined(separator: ", ")))",
                              help: "install \(package): '\(install)'")
        case .noTargetVmlinux(let arch, let tried):
            return Diagnostic(.error, "no vmlinux.h for \(arch): the running kernel's BTF describes this machine's kernel, not one for \(arch), and none of \(tried.joined(separator: ", ")) exists",
                              help: "take the header for \(arch) from https://github.com/libbpf/vmlinux.h (as libbpf-bootstrap vendors it at ../../vmlinux.h/include/), or run 'bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h' ON the \(arch) machine; then set vmlinux in swbpf.toml (\"{arch}\" is replaced: \"vmlinux/{arch}/vmlinux.h\") or VMLINUX")
        case .crossEndianBpftool(let arch, let byteOrder, let bpftool, let libbpf):
            return Diagnostic(.error, "\(arch) is \(byteOrder.rawValue)-endian, and \(bpftool) (using libbpf \(libbpf ?? "of unknown version")) cannot open \(byteOrder.rawValue)-endian BPF objects: its gen object and gen skeleton would fail with 'libbpf: unsupported byte order of ELF file'",
                              help: "libbpf reads objects of either byte order from 1.5 on: build with a bpftool that uses libbpf 1.5 or newer ([bpftool] source = a bpftool 7.5+ tree in swbpf.toml, or BPFTOOL=...), or build on a \(byteOrder.rawValue)-endian machine")
        }
    }
}
