import SwbpfBasics

/// Which program a `Tool` is, and how to find it when no knob names it.
public enum ToolRole: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case clang
    case bpftool
    case cc
    case pkgConfig = "pkg-config"
    /// Runs the Makefiles of libbpf and bpftool source trees.
    case make
    /// Makes the symbolic links of app aliases.
    case ln
    /// Compiles and links Swift apps.
    case swiftc
    /// Writes the support files of Swift apps (`printf %s TEXT > FILE`).
    case printf

    public var description: String { rawValue }

    /// The Makefile variable that overrides it.
    public var knob: String {
        switch self {
        case .clang: return "CLANG"
        case .bpftool: return "BPFTOOL"
        case .cc: return "CC"
        case .pkgConfig: return "PKG_CONFIG"
        case .make: return "MAKE"
        case .ln: return "LN"
        case .swiftc: return "SWIFTC"
        case .printf: return "PRINTF"
        }
    }

    /// The name looked up on PATH.
    public var defaultName: String {
        switch self {
        case .clang, .bpftool, .cc, .make, .ln, .swiftc, .printf: return rawValue
        case .pkgConfig: return "pkg-config"
        }
    }

    /// Where to look after PATH, when no knob names the tool (Debian puts bpftool in sbin).
    package var fallbacks: [String] {
        switch self {
        case .bpftool: return ["/usr/sbin/bpftool", "/usr/local/sbin/bpftool"]
        case .clang, .cc, .pkgConfig, .make, .ln, .swiftc, .printf: return []
        }
    }

    /// The Debian package(s) that provide it.
    package var package: String {
        switch self {
        case .clang: return "clang llvm"
        case .bpftool: return "bpftool"
        case .cc: return "gcc (or clang)"
        case .pkgConfig: return "pkg-config"
        case .make: return "make"
        case .ln, .printf: return "coreutils"
        case .swiftc: return "a Swift toolchain (no Debian package: the tarball from https://www.swift.org/install/linux/ or swiftly)"
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
    /// The program that runs, as the shared cache's key names it: its resolved path and a digest
    /// of its bytes (a wrapper script's text); empty until the resolver has looked.
    public var executable = ""
    /// Made by a step of this build (the bootstrap bpftool): `path` is relative to the project
    /// root, and the program is an input of every step that runs it, so a rebuilt one reruns them.
    public var madeByBuild = false

    /// The identity recorded with every step; any change to it reruns the step.
    public var identity: String { "\(version) \(path) \(leadingArguments.joined(separator: " ")) \(fingerprint)" }

    package init(role: ToolRole, displayName: String, path: String, leadingArguments: [String], version: String, fingerprint: String, madeByBuild: Bool = false) {
        self.role = role
        self.displayName = displayName
        self.path = path
        self.leadingArguments = leadingArguments
        self.version = version
        self.fingerprint = fingerprint
        self.madeByBuild = madeByBuild
    }
}

/// Where the toolchain found libbpf.
public enum LibbpfOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    case libbpfObjKnob
    case config
    case pkgConfig
    case systemLibraryDirectory
    /// Built from a source tree, as `display` names it (relative to the project when it can be).
    case sourceTree(display: String, chosenBy: SourceTreeChoice)

    public var description: String {
        switch self {
        case .libbpfObjKnob: return "LIBBPF_OBJ"
        case .config: return "swbpf.toml [libbpf]"
        case .pkgConfig: return "pkg-config libbpf"
        case .systemLibraryDirectory: return "system"
        case .sourceTree(let display, let choice): return "the source tree \(display)\(choice.suffix)"
        }
    }
}

/// How a source tree (of libbpf, bpftool or vmlinux.h) was chosen.
public enum SourceTreeChoice: Hashable, Sendable, Codable {
    /// Found where libbpf-bootstrap or a `third_party/` layout keeps it.
    case convention
    /// Named by swbpf.toml.
    case config

    package var suffix: String { self == .config ? ", from swbpf.toml" : "" }
}

/// A libbpf source tree that the build compiles with its own Makefile.
public struct LibbpfSourceBuild: Equatable, Sendable, Codable {
    /// The tree's root, absolute.
    public var tree: String
    /// The tree as commands name it: as found or configured (`../../libbpf`).
    public var display: String
    /// The headers its Makefile installs (its HEADERS list), which land in `<output>/bpf/`.
    public var headers: [String]

    package init(tree: String, display: String, headers: [String]) {
        self.tree = tree
        self.display = display
        self.headers = headers
    }
}

/// The libbpf a build links and compiles against: archive and headers always of one libbpf.
public struct Libbpf: Equatable, Sendable, Codable {
    public var archive: String
    /// An include directory to add with -I, or nil when libbpf's headers are in a system directory.
    public var includeDirectory: String?
    public var origin: LibbpfOrigin
    /// `1.6.0` or `1.6`, as far as the headers, the archive or the tree tell; nil when unknown.
    public var version: String?
    /// The tree's copy of the kernel UAPI headers (`include/uapi`), added with -I as
    /// libbpf-bootstrap's Makefile does, when libbpf comes from a source tree; named as commands
    /// name it (`../../libbpf/include/uapi`).
    public var uapiIncludeDirectory: String?
    /// Set when the build makes libbpf.a and its headers from a source tree.
    public var sourceBuild: LibbpfSourceBuild?

    public init(archive: String, includeDirectory: String?, origin: LibbpfOrigin, version: String? = nil,
                uapiIncludeDirectory: String? = nil, sourceBuild: LibbpfSourceBuild? = nil) {
        self.archive = archive
        self.includeDirectory = includeDirectory
        self.origin = origin
        self.version = version
        self.uapiIncludeDirectory = uapiIncludeDirectory
        self.sourceBuild = sourceBuild
    }

    /// `libbpf 1.6.0 from ../../libbpf (source)`, `libbpf 1.1.2 from the system`: what the note,
    /// explain and failure hints say the build uses.
    public func summary(root: String) -> String {
        let name = "libbpf" + (version.map { " " + $0 } ?? "")
        let archive = FileSystem.display(self.archive, relativeTo: root)
        switch origin {
        case .sourceTree(let display, _): return "\(name) from \(display) (source)"
        case .pkgConfig, .systemLibraryDirectory: return "\(name) from the system"
        case .libbpfObjKnob: return "\(name) from LIBBPF_OBJ=\(archive)"
        case .config: return "\(name) from swbpf.toml [libbpf] (\(archive))"
        }
    }
}

/// A bpftool source tree that the build compiles into its bootstrap bpftool.
public struct BpftoolSourceBuild: Equatable, Sendable, Codable {
    /// The tree's root, absolute.
    public var tree: String
    public var display: String
    public var chosenBy: SourceTreeChoice

    package init(tree: String, display: String, chosenBy: SourceTreeChoice) {
        self.tree = tree
        self.display = display
        self.chosenBy = chosenBy
    }
}

/// Who chose the vmlinux.h a build uses.
public enum VmlinuxOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    case knob
    case config
    case projectDirectory
    case runningKernel
    /// A vendored vmlinux.h directory found where libbpf-bootstrap or a `third_party/` layout
    /// keeps it, named as found (`../../vmlinux.h/include/x86`).
    case vendored(directory: String)

    public var description: String {
        switch self {
        case .knob: return "VMLINUX"
        case .config: return "swbpf.toml vmlinux"
        case .projectDirectory: return "the project directory"
        case .runningKernel: return "the running kernel"
        case .vendored(let directory): return "the vendored headers in \(directory)"
        }
    }
}

/// Where vmlinux.h comes from.
public enum VmlinuxSource: Equatable, Sendable, Codable {
    /// Dump this BTF (the running kernel's, or a file the user named) to `<output>/vmlinux.h`.
    case btf(path: String, origin: VmlinuxOrigin)
    /// Use the user's own header, found through `-I<its directory>`.
    case header(path: String, origin: VmlinuxOrigin)

    /// The `-I` directory that finds the header, as commands name it; nil when it is generated.
    package func includeDirectory(root: String) -> String? {
        guard case .header(let path, let origin) = self else { return nil }
        if case .vendored(let directory) = origin { return directory }
        let directory = FileSystem.split(path).directory
        let shown = FileSystem.display(directory.isEmpty ? "." : directory, relativeTo: root)
        // swbpf.toml's `vmlinux = "../vmlinux/{arch}/vmlinux.h"` is named as make names it: a
        // command that does not depend on where the checkout is (and stays cacheable across checkouts).
        if origin == .config, shown.hasPrefix("/") { return FileSystem.relativeWithParents(shown, to: root) ?? shown }
        return shown
    }
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
    /// make, when a libbpf or bpftool source tree is built.
    public var make: Tool? = nil
    /// Set when `bpftool` is the bootstrap bpftool built from this tree.
    public var bpftoolSource: BpftoolSourceBuild? = nil
    /// ln, when an app has aliases.
    public var ln: Tool? = nil
    /// swiftc and what Swift apps need with it, when the project has one.
    public var swift: SwiftTools? = nil
    /// The machine the products are for, and what follows from it.
    public var target = Target.host
    /// What the build says of source trees it saw and did not use, or uses without trusting them.
    public var treeNotes: [Diagnostic] = []

    package init(clang: Tool, bpftool: Tool, cc: Tool, clangSystemIncludes: [String], libbpf: Libbpf, arch: String, vmlinux: VmlinuxSource, make: Tool? = nil, bpftoolSource: BpftoolSourceBuild? = nil, ln: Tool? = nil, swift: SwiftTools? = nil, target: Target = Target.host) {
        self.clang = clang
        self.bpftool = bpftool
        self.cc = cc
        self.clangSystemIncludes = clangSystemIncludes
        self.libbpf = libbpf
        self.arch = arch
        self.vmlinux = vmlinux
        self.make = make
        self.bpftoolSource = bpftoolSource
        self.ln = ln
        self.swift = swift
        self.target = target
    }
}
