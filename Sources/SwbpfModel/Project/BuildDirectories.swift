import SwbpfBasics

/// Where a build may write: the output and bin directories must be swbpf's to fill, so that no
/// product replaces a user's file and no user's file is taken for a product.
extension Project {
    /// Refuses, from the configuration alone, an output directory that is empty, `/`, the project
    /// directory or above it, or that holds sources; and a bin directory that is empty, `/`, above
    /// the project or holds sources in a directory of its own. (Binaries beside the sources, the
    /// default, are libbpf-bootstrap's layout: a binary is named NAME, never a source's name, and
    /// one never replaces a file that is not an executable swbpf or make made.)
    package func checkBuildDirectories() throws {
        let configured = [("output", config.output, config.outputLine), ("bin", config.binaryDirectory, config.binaryDirectoryLine)]
        for case let (key, value?, line) in configured {
            if let problem = problem(ofBuildDirectory: value, isOutput: key == "output") {
                throw ProjectError.unusableBuildDirectory(key: key, value: value, line: line, problem: problem)
            }
        }
    }

    private func problem(ofBuildDirectory value: String, isOutput: Bool) -> String? {
        guard !value.isEmpty else { return "is empty: it would mean the project directory" }
        let directory = Self.real(FileSystem.absolute(value, base: root))
        let project = Self.real(root)
        if directory == "/" { return "is the root directory" }
        if directory == project {
            return isOutput ? "is the project directory, where the sources are" : nil
        }
        if project.hasPrefix(directory + "/") { return "holds the project directory, and so its sources" }
        let sources = (apps.flatMap { $0.bpfSources + $0.userSources + $0.swiftSources } + helperSources).map { FileSystem.absolute($0, base: project) }
        if let source = sources.first(where: { $0.hasPrefix(directory + "/") }) {
            return "holds the source '\(FileSystem.display(source, relativeTo: project))'"
        }
        return nil
    }

    /// `path` with its links resolved where it exists (the part that does not exist is kept as written).
    private static func real(_ path: String) -> String {
        if let resolved = FileSystem.resolved(path) { return resolved }
        let (parent, base) = FileSystem.split(path)
        return parent == path || parent.isEmpty ? path : FileSystem.join(real(parent), base)
    }

    /// Refuses to build in an existing output directory that is not swbpf's: swbpf's own holds its
    /// state (`.swbpf`, directly or in a target's subdirectory); an empty one is fine, and so is
    /// the `.output` libbpf-bootstrap's Makefile leaves, when all it holds is what that Makefile
    /// makes for this project (libbpf, bpftool, each app's and helper's objects and skeleton),
    /// which the build then replaces.
    package func checkOutputDirectoryIsSwbpfs() throws {
        let base = FileSystem.absolute(config.output ?? Project.defaultOutputDirectory, base: root)
        let holdsState = { (directory: String) in FileSystem.isDirectory(FileSystem.join(directory, ".swbpf")) }
        // Every build after the first stops here, at one stat.
        guard !holdsState(base), let names = FileSystem.list(base), !names.isEmpty else { return }
        if names.contains(where: { holdsState(FileSystem.join(base, $0)) }) { return }
        let makeProducts = makeProductNames
        let foreign = names.filter { !makeProducts.contains($0) }.sorted()
        if !foreign.isEmpty {
            throw ProjectError.outputDirectoryNotSwbpfs(path: FileSystem.display(base, relativeTo: root), foreign: foreign)
        }
    }

    /// What libbpf-bootstrap's examples/c Makefile puts in `.output`: libbpf's objects, archive,
    /// headers and pkg-config file, bpftool's build, and per app NAME.tmp.bpf.o, NAME.bpf.o,
    /// NAME.skel.h and NAME.o (HELPER.o per helper).
    private var makeProductNames: Set<String> {
        var names: Set<String> = ["libbpf", "libbpf.a", "bpf", "pkgconfig", "bpftool"]
        for app in apps {
            names.formUnion([".tmp.bpf.o", ".bpf.o", ".skel.h", ".o"].map { app.name + $0 })
        }
        for helper in helperSources where helper.hasSuffix(".c") { names.insert(String(FileSystem.split(helper).base.dropLast(2)) + ".o") }
        return names
    }
}
