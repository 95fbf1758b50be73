import SwbpfBasics

/// One eBPF application: a kernel part (one or more .bpf.c files, linked by bpftool) and a user-space
/// part that embeds the kernel part through the generated skeleton.
public struct App: Equatable, Sendable {
    public var name: String
    /// The kernel parts, each one BPF object with its own skeleton: NAME.bpf.c (with swbpf.toml's
    /// `bpf-sources` linked in) by default, or swbpf.toml's `bpf` list. None for a user-space
    /// program (`[program.NAME]`).
    public var kernelParts: [KernelPart]
    /// Whether the binary links libbpf: every app does; a program when its config asks.
    public var linksLibbpf = true
    /// User-space C sources compiled for this app alone; the first is NAME.c. Empty for a Swift app.
    public var userSources: [String]
    /// A Swift app's sources (NAME.swift or the files of the NAME/ folder, then swbpf.toml's),
    /// compiled as one module; empty for a C app.
    public var swiftSources: [String] = []
    public var swiftFlags: [String] = []
    /// NAME.h beside NAME.bpf.c, the header both parts share, when there is one.
    public var sharedHeader: String?
    /// Helper sources shared between apps (compiled once) that this app links.
    public var helpers: [String]
    /// A Swift app's helper headers that its module imports besides its shared header (which
    /// imports the helpers it includes itself).
    public var importedHelperHeaders: [String] = []
    public var cflags: [String] = []
    public var bpfCflags: [String] = []
    public var ldflags: [String] = []
    public var libs: [String] = []
    /// Other names for the binary: symbolic links beside it (libbpf-tools' `btrfsdist` → `fsdist`).
    public var aliases: [String] = []
    /// The kernels the app carries a small BTF for: swbpf.toml's `btf-for`, then those
    /// `swbpf btfgen --kernel` adds for one run.
    public var btfFor: [String] = []
    /// Why the app cannot be built on this machine (it needs a library that is not here): such an
    /// app is built only when it is asked for by name.
    public var unavailable: String?
    /// Kernel-side sources whose first directive is `#include` of vmlinux.h: they can use the
    /// precompiled vmlinux.h (a source that includes linux/bpf.h first would clash with it).
    public var vmlinuxFirstSources: Set<String> = []
    /// Kernel-side sources with a vmlinux.h in their own directory, which `#include "vmlinux.h"`
    /// finds before any -I directory: the precompiled header of another vmlinux.h would replace it.
    public var vmlinuxBesideSources: Set<String> = []

    /// Kernel-side sources, relative to the project root, of every kernel part.
    public var bpfSources: [String] { kernelParts.flatMap(\.sources) }

    /// bpftool names the skeleton after the object file, with characters that cannot appear in a C
    /// identifier turned into underscores: xdp-counter.bpf.o gives `struct xdp_counter_bpf`.
    public var skeletonName: String { Self.skeletonName(of: name) }

    /// A user-space program of `[program.NAME]`: no kernel part.
    public var isProgram: Bool { kernelParts.isEmpty }

    /// Where a setting of this app's table in swbpf.toml comes from, as explain names it.
    package func configOrigin(_ key: String) -> ArgumentOrigin {
        isProgram ? .programConfig(program: name, key: key) : .appConfig(app: name, key: key)
    }

    /// Whether the user-space part is written in Swift.
    public var isSwift: Bool { !swiftSources.isEmpty }

    /// As bpftool's `sanitize_identifier` does it: every byte that is not an ASCII letter, digit or
    /// '_' becomes '_' (a non-ASCII letter is several bytes, so several underscores).
    public static func skeletonName(of app: String) -> String {
        String(decoding: app.utf8.map { isIdentifierByte($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self) + "_bpf"
    }

    /// Whether bpftool can make a C name of `app` that its user part can call (`NAME_bpf__open`):
    /// only ASCII, each byte that is not a letter, digit or '_' becoming one '_' (so spaces and
    /// control characters still give a name, as FileNameTests builds them), and not starting with
    /// a digit.
    public static func hasUsableName(_ app: String) -> Bool {
        guard let first = app.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return app.utf8.allSatisfy { $0 < 0x80 }
    }

    /// `app` with every character bpftool would change replaced, for a hint.
    public static func suggestedName(for app: String) -> String {
        let name = String(skeletonName(of: app).dropLast(4))
        return name.first?.isNumber == true ? "app_" + name : name
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    package init(name: String, bpfSources: [String], userSources: [String], swiftSources: [String] = [], swiftFlags: [String] = [], sharedHeader: String? = nil, helpers: [String], cflags: [String] = [], bpfCflags: [String] = [], ldflags: [String] = [], libs: [String] = [], aliases: [String] = [], unavailable: String? = nil, vmlinuxFirstSources: Set<String> = []) {
        self.name = name
        self.kernelParts = bpfSources.isEmpty ? [] : [KernelPart(name: name, sources: bpfSources, skeleton: KernelPart.skeletonFile(name, pattern: nil))]
        self.userSources = userSources
        self.swiftSources = swiftSources
        self.swiftFlags = swiftFlags
        self.sharedHeader = sharedHeader
        self.helpers = helpers
        self.cflags = cflags
        self.bpfCflags = bpfCflags
        self.ldflags = ldflags
        self.libs = libs
        self.aliases = aliases
        self.unavailable = unavailable
        self.vmlinuxFirstSources = vmlinuxFirstSources
    }
}

/// One BPF object of an app: its sources (compiled each, then linked by `bpftool gen object` into
/// `.output/NAME.bpf.o`) and the skeleton generated from it.
public struct KernelPart: Equatable, Sendable {
    /// The object's name: `NAME` of NAME.bpf.c, or the source's name without `.c` (`trace_kern`).
    public var name: String
    public var sources: [String]
    /// The skeleton's file name in the output directory (`NAME.skel.h`).
    public var skeleton: String

    public init(name: String, sources: [String], skeleton: String) {
        self.name = name
        self.sources = sources
        self.skeleton = skeleton
    }

    /// The skeleton's file name for the part `name`: swbpf.toml's `skeleton` pattern with `{name}`
    /// replaced, or libbpf-bootstrap's `NAME.skel.h`.
    public static func skeletonFile(_ name: String, pattern: String?) -> String {
        (pattern ?? "{name}.skel.h").replacing("{name}", with: name)
    }

    /// The part's name for a kernel source: `x.bpf.c` gives `x`, `x_kern.c` gives `x_kern`.
    public static func name(of source: String) -> String {
        let base = FileSystem.split(source).base
        for suffix in [".bpf.c", ".c"] where base.hasSuffix(suffix) { return String(base.dropLast(suffix.count)) }
        return base
    }
}

/// What swbpf knows about a project before it looks at any tool: its apps, sources and settings.
public struct Project: Equatable, Sendable {
    /// Absolute path of the project directory; every relative path is relative to it.
    public var root: String
    public var config: ProjectConfig
    public var configFile: String?
    /// Every app found, sorted by name.
    public var apps: [App]
    /// Helper sources compiled once, in the order they are linked.
    public var helperSources: [String]
    /// A user's own vmlinux.h found in the project directory, if any.
    public var localVmlinuxHeader: String?
    /// Remarks about files that look like apps but are not (shown as notes, not errors).
    public var notes: [String]

    /// The machine the build is for, and its linkage (`selectTarget`); the host's until chosen.
    public var target = TargetSelection.host

    /// The output directory when swbpf.toml names none (libbpf-bootstrap's).
    public static let defaultOutputDirectory = ".output"

    /// Where vmlinux.h, objects, skeletons and the state go: the configured directory, or its
    /// subdirectory named after a non-host target (`.output/arm64`), so the two never mix.
    public var outputDirectory: String {
        let base = config.output ?? Self.defaultOutputDirectory
        return target.subdirectory.map { FileSystem.join(base, $0) } ?? base
    }
    /// Where binaries go: the configured directory, or its subdirectory named after a non-host
    /// target (`arm64/NAME`).
    public var binaryDirectory: String {
        let base = config.binaryDirectory ?? "."
        return target.subdirectory.map { FileSystem.join(base, $0) } ?? base
    }

    /// Whether this build compiles `app` as Swift: there is no Swift SDK for another machine here.
    public func buildsSwift(_ app: App) -> Bool { app.isSwift && target.isHost }

    /// Chooses the target from `--arch`, `ARCH` and swbpf.toml, and the linkage.
    public mutating func selectTarget(option: String?, environment: [String: String], staticOption: Bool) throws {
        target = try TargetSelection.resolve(option: option, environment: environment, config: config, staticOption: staticOption)
        // No Swift SDK for another machine here: its Swift apps are left out, with a note.
        guard !target.isHost else { return }
        for index in apps.indices where apps[index].isSwift && apps[index].unavailable == nil {
            let reason = "\(apps[index].name) is a Swift app, which swbpf cannot build for \(target.name); building the other apps"
            apps[index].unavailable = reason
            notes.append(reason)
        }
    }

    public func app(named name: String) -> App? { apps.first { $0.name == name } }

    /// `swbpf btfgen --kernel`: more kernels for the btf-for of `names`' apps, in this run only. A
    /// file (named relative to `base`, the working directory) is kept as its absolute path.
    package mutating func addBTFKernels(_ kernels: [String], to names: Set<String>, base: String) {
        let kernels = kernels.map { name in
            let path = FileSystem.absolute(name, base: base)
            return name.contains("/") || FileSystem.exists(path) ? path : name
        }
        for index in apps.indices where names.contains(apps[index].name) && !apps[index].isProgram {
            apps[index].btfFor += kernels.filter { !apps[index].btfFor.contains($0) }
        }
    }

    /// The apps a build of `names` covers: the named ones, else the configured selection, else all.
    public func selectApps(_ names: [String]) throws -> [App] {
        if !names.isEmpty {
            return try refusingSwiftForOtherTarget(try names.map { name in
                guard let app = app(named: name) else {
                    throw ProjectError.unknownApp(name: name, available: apps.map(\.name))
                }
                return app
            })
        }
        var selected = apps
        if let only = config.onlyApps {
            for name in only where app(named: name) == nil {
                throw ProjectError.unknownApp(name: name, available: apps.map(\.name))
            }
            selected = try refusingSwiftForOtherTarget(selected.filter { only.contains($0.name) })
        } else {
            selected = selected.filter { $0.unavailable == nil || config.alsoApps.contains($0.name) }
        }
        return selected.filter { !config.skipApps.contains($0.name) }
    }

    /// `apps`, unless one is a Swift app asked for by name in a build for another machine.
    package func refusingSwiftForOtherTarget(_ apps: [App]) throws -> [App] {
        if !target.isHost, let app = apps.first(where: \.isSwift) {
            throw ProjectError.swiftForOtherTarget(app: app.name, target: target.name, origin: target.origin.description)
        }
        return apps
    }

    package init(root: String, config: ProjectConfig, configFile: String? = nil, apps: [App], helperSources: [String], localVmlinuxHeader: String? = nil, notes: [String], target: TargetSelection = TargetSelection.host) {
        self.root = root
        self.config = config
        self.configFile = configFile
        self.apps = apps
        self.helperSources = helperSources
        self.localVmlinuxHeader = localVmlinuxHeader
        self.notes = notes
        self.target = target
    }
}
