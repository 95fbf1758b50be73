import SwbpfBasics
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf init`: asks make, once, what a project's Makefile builds, and writes the swbpf.toml that
/// makes a bare `swbpf build` build the same.
package enum MakefileInit {
    /// The names make looks for, in its order.
    package static let makefileNames = ["GNUmakefile", "makefile", "Makefile"]

    package struct Outcome {
        package var learned: MakefileImport
        /// The command that was run, as printed.
        package var command: String
        package var configPath: String
    }

    /// Runs `make -pnR -f MAKEFILE ... [NAME=VALUE...]` in `directory` (argv, no shell), learns the
    /// config, checks that swbpf loads it, and writes it as `directory/swbpf.toml`, which must not
    /// exist. `variables` are the settings the user gives make (`CARGO=`).
    package static func run(directory: String, makefile: String?, variables: [String] = [], environment: [String: String]) async throws -> Outcome {
        if let bad = variables.first(where: { !MakeDatabase.isVariableSetting($0) }) { throw ScaffoldError.badMakeVariable(word: bad) }
        let root = FileSystem.absolute(directory, base: FileSystem.currentDirectory())
        let configPath = FileSystem.join(root, ProjectConfig.fileName)
        if FileSystem.exists(configPath) || FileSystem.isSymbolicLink(configPath) { throw ScaffoldError.configExists(path: FileSystem.join(directory, ProjectConfig.fileName)) }
        let candidates = makefile.map { [$0] } ?? makefileNames
        guard let chosen = candidates.first(where: { FileSystem.exists(FileSystem.absolute($0, base: root)) }) else {
            throw ScaffoldError.noMakefile(directory: directory, tried: candidates)
        }
        guard let make = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
            .map({ FileSystem.join(String($0), "make") }).first(where: FileSystem.isExecutableFile) else {
            throw ScaffoldError.makeNotFound
        }
        let arguments = MakeDatabase.makeArguments(makefile: chosen, variables: variables)
        // As printed: the rule given with --eval is swbpf's, and says nothing to the reader.
        let command = Shell.join(["make", "-pnR", "-f", chosen] + variables) + " (once; its goal prints every variable the Makefile sets)"
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: make, arguments: arguments, workingDirectory: root))
        guard outcome.status == 0 else {
            throw ScaffoldError.makeFailed(command: Shell.join(["make"] + arguments), status: outcome.status, output: String(decoding: outcome.standardError, as: UTF8.self).trimmed())
        }
        let files = Set((FileSystem.entries(root) ?? []).filter { !$0.isDirectory }.map(\.name))
        var learned = MakefileImport.learn(MakeDatabase.parse(String(decoding: outcome.standardOutput, as: UTF8.self)), makefile: chosen, root: root, files: files,
                                           arch: TargetSelection.host.name)
        learned.makeVariables = variables
        // Apps that name an optional header swbpf does not find (blazesym.h): the build's
        // preprocessor may leave them out, where make builds them all the same.
        let project = try ProjectLoader.load(directory: root, config: try ProjectConfig.parse(learned.configText, file: ProjectConfig.fileName),
                                             configFile: ProjectConfig.fileName)
        let leftOut = project.apps.filter { $0.unavailable != nil && learned.products.contains($0.name) }.map(\.name)
        if !leftOut.isEmpty {
            learned.settings.append(.init(table: nil, key: "also", value: .strings(leftOut), origin: "make builds them, whatever their optional headers"))
            learned.learned.append("built as make builds them, whatever their optional headers: \(leftOut.joined(separator: " "))")
        }
        let text = learned.configText
        _ = try ProjectConfig.parse(text, file: ProjectConfig.fileName)
        try writeNew(configPath, Array(text.utf8))
        return Outcome(learned: learned, command: command, configPath: configPath)
    }

    /// Writes a whole new file: through a temporary sibling, then link(2), which fails rather than
    /// replace a file that appeared in the meantime.
    private static func writeNew(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = FileSystem.temporarySibling(of: path)
        try FileSystem.writeAtomically(temporary, bytes)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { throw ScaffoldError.configExists(path: path) }
            throw FileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
