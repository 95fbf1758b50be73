import SwbpfBasics
import SwbpfModel

/// Which libbpf a build uses: always one libbpf, its archive and its headers together.
extension ToolchainResolver {
    /// libbpf from LIBBPF_OBJ, from swbpf.toml (`[libbpf] archive`, `source = "system"` or a
    /// tree), from a libbpf tree where libbpf-bootstrap's layouts keep one, else the system's.
    package func libbpfChoice() throws -> LibbpfChoice {
        if let archive = environment["LIBBPF_OBJ"], !archive.isEmpty {
            return .archive(path: archive, include: nil, origin: .libbpfObjKnob)
        }
        let config = project.config
        if let archive = config.libbpfArchive { return .archive(path: archive, include: config.libbpfInclude, origin: .config) }
        if config.libbpfSource == "system" { return .system }
        if let source = config.libbpfSource {
            let tree = try SourceTrees.named(.libbpf, source, root: project.root, key: "[libbpf] source")
            return .source(tree: tree.path, display: tree.display, chosenBy: .config)
        }
        if let found = try SourceTrees.find(.libbpf, among: SourceTrees.libbpfPlaces, root: project.root) {
            return .source(tree: found.path, display: found.display, chosenBy: .convention)
        }
        return .system
    }

    /// Whether libbpf comes from the system, which pkg-config is asked about.
    package var needsPkgConfig: Bool {
        if case .system? = try? libbpfChoice() { return true }
        return false
    }

    /// The libbpf a build would use, given pkg-config's answer (libdir, includedir, and perhaps
    /// the version) when it was asked.
    package func libbpf(pkgConfigAnswer: [String]?) throws -> Libbpf {
        var facts = FileFacts(cached: answers)
        switch try libbpfChoice() {
        case .archive(let path, let include, let origin): return try explicitLibbpf(archive: path, include: include, origin: origin, facts: &facts)
        case .system: return try systemLibbpf(pkgConfigAnswer: pkgConfigAnswer, facts: &facts)
        case .source(let tree, let display, let chosenBy): return try sourceLibbpf(tree: tree, display: display, chosenBy: chosenBy, facts: &facts)
        }
    }

    /// libbpf built from a source tree into the output directory, as libbpf-bootstrap's Makefile
    /// installs it: `<output>/libbpf.a` and `<output>/bpf/*.h`, found through `-I<output>`.
    package func sourceLibbpf(tree: String, display: String, chosenBy: SourceTreeChoice, facts: inout FileFacts) throws -> Libbpf {
        let read = ["src/libbpf.map", "src/libbpf_version.h", "src/Makefile"].map { FileSystem.join(tree, $0) }
        let values = try facts.values("libbpf-tree", from: read) {
            [try SourceTrees.libbpfTreeVersion(tree)] + (try SourceTrees.installedHeaders(tree))
        }
        let output = FileSystem.absolute(project.outputDirectory, base: project.root)
        return Libbpf(archive: FileSystem.join(output, "libbpf.a"), includeDirectory: output,
                      origin: .sourceTree(display: display, chosenBy: chosenBy), version: values.first,
                      uapiIncludeDirectory: FileSystem.join(display, "include/uapi"),
                      sourceBuild: LibbpfSourceBuild(tree: tree, display: display, headers: Array(values.dropFirst())))
    }

    /// The system's libbpf: for another machine, its multiarch libbpf; else pkg-config's libdir and
    /// includedir when it answered, else the usual library directories.
    package func systemLibbpf(pkgConfigAnswer: [String]?, facts: inout FileFacts) throws -> Libbpf {
        if !selection.isHost, let arch = selection.arch { return try targetSystemLibbpf(arch, facts: &facts) }
        var tried: [String] = []
        if let answer = pkgConfigAnswer, answer.count >= 2 {
            let archive = FileSystem.join(answer[0], "libbpf.a")
            tried.append("\(archive) (pkg-config libbpf)")
            if FileSystem.exists(archive) {
                let systemDirectories = ["/usr/include", "/usr/local/include"]
                var libbpf = Libbpf(archive: archive, includeDirectory: systemDirectories.contains(answer[1]) ? nil : answer[1],
                                    origin: .pkgConfig)
                try settleVersion(&libbpf, headers: answer[1], facts: &facts)
                // pkg-config knows the patch level the header does not.
                if answer.count >= 3, !answer[2].isEmpty, libbpf.version.map({ answer[2].hasPrefix($0) }) ?? true { libbpf.version = answer[2] }
                return libbpf
            }
        }
        let machine = Arch.hostMachine()
        for directory in ["/usr/lib/\(machine)-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib64", "/usr/local/lib"] {
            let archive = FileSystem.join(directory, "libbpf.a")
            tried.append(archive)
            if FileSystem.exists(archive) {
                var libbpf = Libbpf(archive: archive, includeDirectory: nil, origin: .systemLibraryDirectory)
                try settleVersion(&libbpf, headers: "/usr/include", facts: &facts)
                return libbpf
            }
        }
        throw ToolchainError.libbpfNotFound(tried: tried)
    }

    /// An archive named by LIBBPF_OBJ or swbpf.toml, with the headers named beside it, found
    /// beside it (installed as bpf/*.h there or under include/), or else the system's. Whichever
    /// they are, they must be of the archive's libbpf.
    package func explicitLibbpf(archive: String, include: String?, origin: LibbpfOrigin, facts: inout FileFacts) throws -> Libbpf {
        let path = FileSystem.absolute(archive, base: project.root)
        guard FileSystem.exists(path) else { throw ToolchainError.libbpfNotFound(tried: ["\(path) (\(origin))"]) }
        var libbpf = Libbpf(archive: path, includeDirectory: nil, origin: origin)
        if let include {
            libbpf.includeDirectory = FileSystem.absolute(include, base: project.root)
        } else {
            let directory = FileSystem.split(path).directory
            libbpf.includeDirectory = [directory, FileSystem.join(directory, "include")]
                .first { FileSystem.exists(FileSystem.join($0, "bpf/libbpf.h")) }
        }
        try settleVersion(&libbpf, headers: libbpf.includeDirectory ?? "/usr/include", facts: &facts)
        return libbpf
    }

    /// Sets the version from the headers (`bpf/libbpf_version.h` under `headers`) and the archive
    /// (the version string libbpf compiles into itself), and refuses a pair of two libbpfs.
    package func settleVersion(_ libbpf: inout Libbpf, headers: String, facts: inout FileFacts) throws {
        let header = FileSystem.join(headers, "bpf/libbpf_version.h")
        let headerVersion = facts.values("libbpf-headers", from: [header]) { [SourceTrees.headerVersion(header) ?? ""] }.first ?? ""
        let archive = libbpf.archive
        let archiveVersion = facts.values("libbpf-archive", from: [archive]) { [SourceTrees.archiveVersion(archive) ?? ""] }.first ?? ""
        if !headerVersion.isEmpty, !archiveVersion.isEmpty, headerVersion != archiveVersion {
            throw SourceTreeError.mixedLibbpf(archive: FileSystem.display(archive, relativeTo: project.root), archiveVersion: archiveVersion,
                                              headers: FileSystem.display(FileSystem.join(headers, "bpf"), relativeTo: project.root),
                                              headersVersion: headerVersion, origin: libbpf.origin.description)
        }
        let known = headerVersion.isEmpty ? archiveVersion : headerVersion
        libbpf.version = known.isEmpty ? nil : known
    }
}
