/// A program swbpf runs, found once per build.
public struct Tool: Equatable, Hashable, Sendable, Codable {
    /// Which tool this is: clang, bpftool or cc.
    public var role: String
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

/// The libbpf a build links and compiles against.
public struct Libbpf: Equatable, Sendable, Codable {
    public var archive: String
    /// An include directory to add with -I, or nil when libbpf's headers are in a system directory.
    public var includeDirectory: String?
    public var origin: String
}

/// Where vmlinux.h comes from.
public enum VmlinuxSource: Equatable, Sendable {
    /// Dump this BTF (the running kernel's, or a file the user named) to `<output>/vmlinux.h`.
    case btf(path: String, origin: String)
    /// Use the user's own header, found through `-I<its directory>`.
    case header(path: String, origin: String)
}

/// Everything about the machine that a plan depends on.
public struct Toolchain: Equatable, Sendable {
    public var clang: Tool
    public var bpftool: Tool
    public var cc: Tool
    /// clang's default system include directories, passed to BPF compiles with -idirafter.
    public var clangSystemIncludes: [String]
    public var libbpf: Libbpf
    public var arch: String
    public var vmlinux: VmlinuxSource
}
