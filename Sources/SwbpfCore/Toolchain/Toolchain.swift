/// Which program a `Tool` is, and how to find it when no knob names it.
public enum ToolRole: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case clang
    case bpftool
    case cc
    case pkgConfig = "pkg-config"

    public var description: String { rawValue }

    /// The Makefile variable that overrides it.
    public var knob: String {
        switch self {
        case .clang: return "CLANG"
        case .bpftool: return "BPFTOOL"
        case .cc: return "CC"
        case .pkgConfig: return "PKG_CONFIG"
        }
    }

    /// The name looked up on PATH.
    public var defaultName: String {
        switch self {
        case .clang, .bpftool, .cc: return rawValue
        case .pkgConfig: return "pkg-config"
        }
    }

    /// Where to look after PATH, when no knob names the tool (Debian puts bpftool in sbin).
    var fallbacks: [String] {
        switch self {
        case .bpftool: return ["/usr/sbin/bpftool", "/usr/local/sbin/bpftool"]
        case .clang, .cc, .pkgConfig: return []
        }
    }

    /// The Debian package(s) that provide it.
    var package: String {
        switch self {
        case .clang: return "clang llvm"
        case .bpftool: return "bpftool"
        case .cc: return "gcc (or clang)"
        case .pkgConfig: return "pkg-config"
        }
    }
}

/// A program swbpf runs, found once per build.
public struct Tool: Equatable, Hashable, Sendable, Codable {
    public var role: ToolRole
    /// How printed commands name it: the bare name when it was found on PATH, else the path.
    public var displayName: String
    /// The absolute path that is executed.
    public var path: String
    /// Words a knob put after the program (`CC="ccache cc"` runs ccache with `cc` first).
    public var leadingArguments: [String]
    /// What the tool says its version is, e.g. `14.0.6`.
    public var version: String
    /// Size and modification time of the executable: a rebuilt tool with the same version string
    /// is still a different tool.
    public var fingerprint: String

    /// The identity recorded with every step; any change to it reruns the step.
    public var identity: String { "\(version) \(path) \(leadingArguments.joined(separator: " ")) \(fingerprint)" }
}

/// Where the toolchain found libbpf.
public enum LibbpfOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    case libbpfObjKnob
    case config
    case pkgConfig
    case systemLibraryDirectory

    public var description: String {
        switch self {
        case .libbpfObjKnob: return "LIBBPF_OBJ"
        case .config: return "swbpf.toml [libbpf]"
        case .pkgConfig: return "pkg-config libbpf"
        case .systemLibraryDirectory: return "system"
        }
    }
}

/// The libbpf a build links and compiles against.
public struct Libbpf: Equatable, Sendable, Codable {
    public var archive: String
    /// An include directory to add with -I, or nil when libbpf's headers are in a system directory.
    public var includeDirectory: String?
    public var origin: LibbpfOrigin
}

/// Who chose the vmlinux.h a build uses.
public enum VmlinuxOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    case knob
    case config
    case projectDirectory
    case runningKernel

    public var description: String {
        switch self {
        case .knob: return "VMLINUX"
        case .config: return "swbpf.toml vmlinux"
        case .projectDirectory: return "the project directory"
        case .runningKernel: return "the running kernel"
        }
    }
}

/// Where vmlinux.h comes from.
public enum VmlinuxSource: Equatable, Sendable, Codable {
    /// Dump this BTF (the running kernel's, or a file the user named) to `<output>/vmlinux.h`.
    case btf(path: String, origin: VmlinuxOrigin)
    /// Use the user's own header, found through `-I<its directory>`.
    case header(path: String, origin: VmlinuxOrigin)
}

/// Everything about the machine that a plan depends on.
public struct Toolchain: Equatable, Sendable, Codable {
    public var clang: Tool
    public var bpftool: Tool
    public var cc: Tool
    /// clang's default system include directories, passed to BPF compiles with -idirafter.
    public var clangSystemIncludes: [String]
    public var libbpf: Libbpf
    public var arch: String
    public var vmlinux: VmlinuxSource
}
