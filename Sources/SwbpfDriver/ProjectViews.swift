import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel
import SwbpfToolchain
#if canImport(Glibc)
import Glibc
#endif

/// compile_commands.json: the exact compile commands of the plan, for clangd and other tools.
public enum CompilationDatabase {
    public static let fileName = "compile_commands.json"

    public struct Entry: Codable, Equatable {
        public var directory: String
        public var file: String
        public var arguments: [String]
        public var output: String
    }

    public static func entries(for steps: [Step], root: String) -> [Entry] {
        steps.filter(\.kind.compilesSource).flatMap { step -> [Entry] in
            // clangd cannot use swbpf's PCH (it is another clang's, and may not exist yet); the
            // command without it reads vmlinux.h and gives the same object.
            let arguments = [step.tool.displayName] + step.tool.leadingArguments
                + step.groups.filter { $0.role != .precompiledHeader }.flatMap(\.arguments).map { $0.resolved(temporaryOutputs: false) }
            // A Swift module is one command for all its sources: sourcekit-lsp looks each file up.
            let sources = step.kind == .swiftCompile
                ? step.groups.filter { $0.role == .source }.flatMap(\.arguments).compactMap { $0.pathAndUse?.path }
                : Array(step.inputs.prefix(1))
            return sources.map { Entry(directory: root, file: $0, arguments: arguments, output: step.primaryOutput) }
        }
    }

    /// Writes the database for every compile of `opened` (`compileDatabaseSteps`) into the project root.
    @discardableResult
    public static func write(_ opened: OpenedProject) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(entries(for: opened.compileDatabaseSteps, root: opened.plan.projectRoot))
        let path = FileSystem.join(opened.plan.projectRoot, fileName)
        try FileSystem.writeAtomically(path, Array(data) + [0x0A])
        return path
    }
}

/// `swbpf clean`: removes exactly the files the build state records as swbpf's products, still as
/// swbpf made them, and nothing else. Without a usable state nothing can be proven to be swbpf's,
/// so nothing is removed.
public enum Cleaner {
    public struct Outcome: Sendable {
        /// Paths removed, relative to the project root where they lie inside it.
        public var removed: [String] = []
        /// Recorded products that were changed since swbpf made them: someone else's now, kept.
        public var kept: [String] = []
        /// Why nothing could be known to be swbpf's, when that is so.
        public var noState: String?
    }

    /// Cleans the products of `apps`' own steps (shared ones, such as vmlinux.h, stay), or, with
    /// no apps, every recorded product, the state and swbpf's report. Holds the project's lock, so
    /// it never runs beside a build.
    public static func clean(project: Project, plan: BuildPlan, apps: [String], lockTimeoutSeconds: Int,
                             onWait: (String) -> Void) async throws -> Outcome {
        let stateDirectory = OpenedProject.stateDirectory(of: project)
        let statePath = FileSystem.join(stateDirectory, "state")
        var outcome = Outcome()
        guard FileSystem.isDirectory(stateDirectory) else {
            outcome.noState = "there is no build state (\(FileSystem.display(statePath, relativeTo: project.root)))"
            return outcome
        }
        let lockPath = BuildSession.lockPath(of: project)
        let lock = try await BuildLock.acquire(path: lockPath, timeoutSeconds: lockTimeoutSeconds, onWait: onWait)
        defer { withExtendedLifetime(lock) {} }
        let state = BuildState.load(path: statePath)
        guard state.existed, state.warning == nil else {
            outcome.noState = state.warning ?? "there is no build state (\(FileSystem.display(statePath, relativeTo: project.root)))"
            return outcome
        }
        let files = ProjectFileSystem(root: project.root)
        let ownership = ProductOwnership(state: state, files: files, outputDirectory: plan.outputDirectory)
        let steps = apps.isEmpty ? [] : plan.steps.filter { $0.app.map(apps.contains) ?? false }
        let keys = apps.isEmpty ? state.steps.keys.sorted() : steps.map(\.primaryOutput)
        let removable = ownership.removable(keys: keys)
        for path in removable {
            files.remove(path)
            state.forgetOutput(path)
        }
        outcome.removed = removable
        outcome.kept = keys.flatMap { state.steps[$0]?.outputs ?? [] }.map(\.path).filter { files.stat($0) != nil }
        // Temporaries of killed builds, beside every product and the state.
        let directories = Set(removable.map { FileSystem.split(files.absolute($0)).directory } + [stateDirectory])
        directories.forEach { FileSystem.removeStaleTemporaries(in: $0) }
        guard apps.isEmpty else {
            try state.flush()
            return outcome
        }
        // What make keeps between runs (libbpf's objects), and the directories products were in.
        for step in plan.steps {
            if let scratch = step.scratchDirectory, ownership.isOwned(scratch), FileSystem.removeTree(files.absolute(scratch)) {
                outcome.removed.append(scratch + "/")
            }
            for byproduct in step.byproducts where ownership.isOwned(byproduct) && !outcome.removed.contains(byproduct)
                && files.stat(byproduct) != nil && FileSystem.removeTree(files.absolute(byproduct)) {
                outcome.removed.append(byproduct)
            }
        }
        for path in removable where ownership.isOwned(path) {
            var directory = FileSystem.split(path).directory
            while ownership.isOwned(directory), rmdir(files.absolute(directory)) == 0 {
                directory = FileSystem.split(directory).directory
            }
        }
        let report = FileSystem.join(OpenedProject.outputDirectory(of: project), TimingsReport.fileName)
        if let text = FileSystem.readText(report), text.contains(TimingsReport.signature), FileSystem.remove(report) {
            outcome.removed.append(FileSystem.display(report, relativeTo: project.root))
        }
        FileSystem.remove(statePath)
        for name in [KernelLoader.sourceName, ToolAnswers.fileName, ShownNotes.fileName] {
            FileSystem.remove(FileSystem.join(stateDirectory, name))
        }
        // The no-op records: each describes a build whose state is gone.
        FileSystem.removeTree(FileSystem.join(stateDirectory, NoopRecord.directoryName))
        // Removed while held: a command waiting for the lock notices and locks the next one.
        FileSystem.remove(lockPath)
        // The state directory marks the output directory as swbpf's: it goes only with the output
        // directory, so files a user left there (kept above) do not make the next build refuse it.
        let output = OpenedProject.outputDirectory(of: project)
        if FileSystem.entries(output)?.allSatisfy({ FileSystem.join(output, $0.name) == stateDirectory }) ?? false {
            _ = rmdir(stateDirectory)
            _ = rmdir(output)
        }
        return outcome
    }
}

/// Where `--timings` writes its HTML report.
public enum TimingsReport {
    public static let fileName = "swbpf-timings.html"
    /// What every report swbpf writes contains, so `clean` removes only its own.
    package static let signature = "<title>swbpf build timings: "
}
