import FoundationEssentials

/// The machine a build's products run on, resolved into everything the planner needs from it:
/// the BPF target and system headers of kernel-part compiles, the user-space compiler's origin,
/// the target's library directories, the libraries of the link and the ELF identity its binaries
/// must carry. The toolchain's `cc`, `libbpf` and `vmlinux` are resolved for this target too. For
/// the host, every value is what builds used before targets existed.
public struct Target: Equatable, Sendable, Codable {
    public var selection: TargetSelection
    /// clang's `-target`: `bpf` (the host's byte order) for the host, else `bpfel` or `bpfeb`.
    public var bpfTarget: String
    /// The system include directories of kernel-part compiles (`-idirafter`): clang's own for the
    /// host; for another target the same list with the target's multiarch directory in place of
    /// the host's, so asm/types.h and friends are the target's.
    public var bpfSystemIncludes: [String]?
    /// How the user-space compiler was chosen (`CC`, `CROSS_COMPILE=aarch64-linux-gnu-`, ...).
    public var compilerOrigin: String
    /// What libbpf.a needs after it on the link line: `-lelf -lz`, or pkg-config's static list.
    public var libraries: [String]
    /// Where `libraries` come from.
    public var librariesOrigin: String
    /// The identity every binary must have; nil for the host (its compiler makes host binaries).
    public var expectedBinary: ELFIdentity?

    public var isHost: Bool { selection.isHost }

    public static let host = Target(selection: .host, bpfTarget: "bpf", bpfSystemIncludes: nil, compilerOrigin: "CC",
                                    libraries: ["-lelf", "-lz"], librariesOrigin: "swbpf", expectedBinary: nil)

    package init(selection: TargetSelection, bpfTarget: String, bpfSystemIncludes: [String]?, compilerOrigin: String,
         libraries: [String], librariesOrigin: String, expectedBinary: ELFIdentity?) {
        self.selection = selection
        self.bpfTarget = bpfTarget
        self.bpfSystemIncludes = bpfSystemIncludes
        self.compilerOrigin = compilerOrigin
        self.libraries = libraries
        self.librariesOrigin = librariesOrigin
        self.expectedBinary = expectedBinary
    }

    /// `-target` for a selection: the host keeps `bpf`, other targets name their byte order.
    package static func bpfTarget(for selection: TargetSelection) -> String {
        guard !selection.isHost, let arch = selection.arch else { return "bpf" }
        return arch.byteOrder == .little ? "bpfel" : "bpfeb"
    }

    /// The first libbpf version whose object reader accepts an ELF file of the other byte order
    /// (bpftool's gen object and gen skeleton open the object with libbpf).
    package static let crossEndianLibbpf = [1, 5]
}
