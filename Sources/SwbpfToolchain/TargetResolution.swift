import FoundationEssentials
import SwbpfBasics
import SwbpfModel

extension ToolchainResolver {
    package var selection: TargetSelection { project.target }

    // MARK: The user-space compiler

    /// The compiler for the target's user space. For the host: `CC`, else `cc`. For another
    /// target: `CC` when it is set (the user's choice; the ELF check after the link still holds
    /// it to the target), else `CROSS_COMPILE` + `gcc` as the kernel's and bpftool's Makefiles
    /// take it, else the Debian cross compiler `<triple>-gcc`, else `clang --target=<triple>` when a
    /// linker for the target is here, else an error naming the packages.
    package func userCompiler() throws -> (tool: Tool, origin: String) {
        let knobSet = !(environment[ToolRole.cc.knob].map(Shell.splitWords) ?? []).isEmpty
        guard !selection.isHost, let arch = selection.arch else {
            return (try locate(.cc), knobSet ? "CC" : "cc on PATH")
        }
        if knobSet { return (try locate(.cc), "CC") }
        let missing = ToolchainError.noCrossCompiler(arch: arch.name, triple: arch.triple, install: arch.installCommand,
                                                     package: arch.crossCompilerPackage)
        if let prefix = environment["CROSS_COMPILE"], !prefix.isEmpty {
            guard let gcc = try? locate(.cc, configured: prefix + "gcc") else {
                throw ToolchainError.crossCompilePrefixWrong(prefix: prefix, arch: arch.name, triple: arch.triple,
                                                             installed: onPath(arch.triple + "-gcc"))
            }
            return (gcc, "CROSS_COMPILE=\(prefix)")
        }
        if let gcc = try? locate(.cc, configured: arch.triple + "-gcc") { return (gcc, "\(arch.triple)-gcc on PATH") }
        // clang cross-compiles for any triple; it needs a linker for the target.
        let crossLinker = onPath(arch.triple + "-ld") != nil
        if var clang = try? locate(.clang), crossLinker || onPath("ld.lld") != nil {
            let sysroot = "/usr/" + arch.triple
            let multiarch = FileSystem.isDirectory("/usr/include/" + arch.triple)
            clang.role = .cc
            clang.leadingArguments += ["--target=" + arch.triple] + (multiarch || !FileSystem.isDirectory(sysroot) ? [] : ["--sysroot=" + sysroot])
                + (crossLinker ? [] : ["-fuse-ld=lld"])
            return (clang, "clang --target=\(arch.triple), as no \(arch.triple)-gcc is on PATH")
        }
        throw missing
    }

    // MARK: Kernel-part headers

    /// clang's system include directories with the host's multiarch directory replaced by the
    /// target's (`/usr/include/aarch64-linux-gnu`, else the cross sysroot's `/usr/<triple>/include`).
    package func bpfSystemIncludes(clang: [String]) throws -> [String]? {
        guard !selection.isHost, let arch = selection.arch else { return nil }
        let candidates = ["/usr/include/" + arch.triple, "/usr/\(arch.triple)/include"]
        guard let own = candidates.first(where: { FileSystem.exists(FileSystem.join($0, "asm/types.h")) }) else {
            throw ToolchainError.targetHeadersMissing(arch: arch.name, tried: candidates.map { FileSystem.join($0, "asm/types.h") },
                                                      install: "dpkg --add-architecture \(arch.debian) && apt-get update && apt-get install linux-libc-dev:\(arch.debian)")
        }
        let hostTriples = Set(TargetArch.all.map { "/usr/include/" + $0.triple })
        var directories = clang.filter { !hostTriples.contains($0) }
        let position = directories.firstIndex(of: "/usr/include") ?? directories.endIndex
        directories.insert(own, at: position)
        return directories
    }

    // MARK: Libraries

    /// The directories that hold the target's libraries: Debian's multiarch directory, then the
    /// cross sysroot.
    package func targetLibraryDirectories(_ arch: TargetArch) -> [String] {
        ["/usr/lib/" + arch.triple, "/usr/\(arch.triple)/lib"]
    }

    /// The target's libbpf from Debian's multiarch libbpf-dev (`libbpf-dev:arm64`); its headers are
    /// the same files as the host's (`/usr/include/bpf`), which Debian keeps identical across
    /// architectures.
    package func targetSystemLibbpf(_ arch: TargetArch, facts: inout FileFacts) throws -> Libbpf {
        let tried = targetLibraryDirectories(arch).map { FileSystem.join($0, "libbpf.a") }
        guard let archive = tried.first(where: FileSystem.exists) else {
            throw ToolchainError.targetLibraryMissing(library: "libbpf.a", arch: arch.name, tried: tried, install: arch.installCommand,
                                                      package: "libbpf-dev:\(arch.debian)")
        }
        var libbpf = Libbpf(archive: archive, includeDirectory: nil, origin: .systemLibraryDirectory)
        try settleVersion(&libbpf, headers: "/usr/include", facts: &facts)
        return libbpf
    }

    /// libelf and zlib for the target: shared or static libraries, as the link will want them.
    package func checkTargetLibraries(_ arch: TargetArch, staticLink: Bool) throws {
        for (library, package) in [("libelf", "libelf-dev"), ("libz", "zlib1g-dev")] {
            let names = staticLink ? [library + ".a"] : [library + ".so", library + ".a"]
            let tried = targetLibraryDirectories(arch).flatMap { directory in names.map { FileSystem.join(directory, $0) } }
            if !tried.contains(where: FileSystem.exists) {
                throw ToolchainError.targetLibraryMissing(library: names[0], arch: arch.name, tried: tried, install: arch.installCommand,
                                                          package: "\(package):\(arch.debian)")
            }
        }
    }

    /// The host's static libelf and zlib, which a `--static` host link needs.
    package func checkHostStaticLibraries() throws {
        let triple = TargetArch.host?.triple ?? "\(Arch.hostMachine())-linux-gnu"
        for (library, package) in [("libelf.a", "libelf-dev"), ("libz.a", "zlib1g-dev")] {
            let tried = ["/usr/lib/" + triple, "/usr/lib64", "/usr/lib"].map { FileSystem.join($0, library) }
            if !tried.contains(where: FileSystem.exists) {
                throw ToolchainError.targetLibraryMissing(library: library, arch: selection.name, tried: tried,
                                                          install: "apt-get install \(package)", package: package)
            }
        }
    }

    /// pkg-config asked for the target's libelf: the target's pkg-config directory as its only
    /// search path (`PKG_CONFIG_LIBDIR`), or the host's own for the host.
    package func staticLibrariesQuestion(_ tool: Tool) -> ToolQuestion {
        let arguments = ["--static", "--libs", "libelf"]
        let triple = selection.arch?.triple ?? "host"
        guard !selection.isHost, let arch = selection.arch else {
            return ToolQuestion(.staticLibraries(triple: triple, arguments: arguments, environment: nil), tool)
        }
        var environment = self.environment
        environment["PKG_CONFIG_LIBDIR"] = targetLibraryDirectories(arch).map { FileSystem.join($0, "pkgconfig") }.joined(separator: ":")
        environment["PKG_CONFIG_PATH"] = nil
        return ToolQuestion(.staticLibraries(triple: triple, arguments: arguments, environment: environment), tool)
    }

    /// The words of a static link after libbpf.a: pkg-config's answer (`-lelf -lz`, and `-lzstd`
    /// where libelf needs it), without duplicates; `-lelf -lz` when pkg-config had no answer.
    package static func staticLibraries(answer: [String]?) -> (words: [String], origin: String) {
        guard let answer, let line = answer.first, !line.isEmpty else {
            return (["-lelf", "-lz"], "swbpf (pkg-config has no libelf here)")
        }
        var seen = Set<String>()
        let words = Shell.splitWords(line).filter { seen.insert($0).inserted }
        return (words, "pkg-config --static --libs libelf")
    }

    package static func askStaticLibraries(_ tool: Tool, arguments: [String], environment: [String: String]?) async throws -> [String] {
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: tool.path, arguments: arguments,
                                                                         workingDirectory: FileSystem.currentDirectory(),
                                                                         environment: environment))
        guard outcome.status == 0 else { return [""] }
        return [String(decoding: outcome.standardOutput, as: UTF8.self).trimmed()]
    }

    // MARK: Targets of the other byte order

    /// A big-endian target's objects (or a little-endian one's, on a big-endian host) must be
    /// opened by bpftool's libbpf for gen object and gen skeleton; libbpf before 1.5 refuses an
    /// object of the other byte order (`libbpf: unsupported byte order of ELF file`). Refused
    /// here, before any step runs, naming the bpftool and its libbpf.
    package func checkByteOrder(bpftool: BpftoolChoice, answer: [String]?) throws {
        guard !selection.isHost, let arch = selection.arch, arch.byteOrder != (TargetArch.host?.byteOrder ?? .little) else { return }
        let name: String, libbpfVersion: String?
        switch bpftool {
        case .program(let tool):
            name = "bpftool \(answer?.first ?? "(unknown version)") (\(tool.path))"
            libbpfVersion = answer.flatMap { $0.count > 1 && !$0[1].isEmpty ? $0[1] : nil }
        case .source(let tree, let display, _):
            name = "the bpftool built from \(display)"
            libbpfVersion = try? SourceTrees.libbpfTreeVersion(FileSystem.join(tree, "libbpf"))
        }
        let parts = (libbpfVersion ?? "").split(separator: ".").compactMap { Int($0) }
        if !parts.isEmpty, !parts.lexicographicallyPrecedes(Target.crossEndianLibbpf) { return }
        throw ToolchainError.crossEndianBpftool(arch: arch.name, byteOrder: arch.byteOrder, bpftool: name, libbpf: libbpfVersion)
    }
}
