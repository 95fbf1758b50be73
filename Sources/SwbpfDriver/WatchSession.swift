import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// What a build read, as far as a watch needs it: the files whose change would change the build
/// (sources, headers the compilers reported, swbpf.toml, headers that must stay absent), the
/// directories they are in, and the files the build itself writes, whose changes are not edits.
package struct WatchSet: Equatable {
    package var files: Set<String> = []
    package var directories: Set<String> = []
    package var products: Set<String> = []

    /// Only the project directory and its swbpf.toml: what is known when no plan could be made.
    package init(projectDirectory: String) {
        let root = FileSystem.absolute(projectDirectory, base: FileSystem.currentDirectory())
        files = [FileSystem.join(root, ProjectConfig.fileName)]
        directories = [root]
    }

    package init?(_ prepared: PreparedBuild) {
        guard let opened = prepared.plannedProject, let executor = prepared.executor else { return nil }
        let root = opened.project.root
        func absolute(_ path: String) -> String { FileSystem.absolute(path, base: root) }
        self.init(projectDirectory: root)
        for step in executor.steps {
            files.formUnion((step.inputs + step.orderOnlyInputs).map(absolute))
            files.formUnion((executor.state.steps[step.primaryOutput]?.inputs ?? []).map { absolute($0.path) })
        }
        products = Set((opened.plan.steps + opened.plan.tools).flatMap(\.products).map(absolute))
        files.subtract(products)
        directories.formUnion(files.map { FileSystem.split($0).directory })
        // What swbpf keeps for itself changes on every build.
        let state = OpenedProject.stateDirectory(of: opened.project)
        directories.remove(state)
    }

    /// Whether a change to `path` is an edit the build would see: a file it read, or a new
    /// source or header beside them (a new app, a header that now shadows another).
    package func isRelevant(_ path: String) -> Bool {
        if products.contains(path) { return false }
        if files.contains(path) || directories.contains(path) { return true }
        let name = FileSystem.split(path).base
        return !name.hasPrefix(".") && (name.hasSuffix(".c") || name.hasSuffix(".h"))
    }
}

/// `--watch`: runs a round (a build, or a build and verify), then waits with inotify for an edit
/// to what it read, and runs it again, until Ctrl-C.
public enum WatchSession {
    /// `round` gets a fresh console for each round and returns its status and its build. Returns
    /// 130 when interrupted.
    public static func run(directory: String, console makeConsole: () -> BuildReporter,
                           round: (BuildReporter) async -> (status: Int32, prepared: PreparedBuild?)) async -> Int32 {
        let watcher: FileWatcher
        do {
            watcher = try FileWatcher()
        } catch {
            makeConsole().handle(.diagnostic(Diagnostic(of: error)))
            return 1
        }
        var known = WatchSet(projectDirectory: directory)
        // Edits made while the first build runs are seen too.
        watcher.watch(known.directories)
        while true {
            let console = makeConsole()
            let (status, watchSet) = await runRound(round, console: console)
            if status == 130 || Task.isCancelled { return 130 }
            if let watchSet { known = watchSet } else { known.files.formUnion(WatchSet(projectDirectory: directory).files) }
            watcher.watch(known.directories)
            console.handle(.note("swbpf: \(status == 0 ? "done" : "failed (status \(status))"); watching \(known.files.count) files in "
                                 + "\(watcher.watchedDirectories) directories for changes (Ctrl-C to stop)"))
            let changed: [String]
            do {
                changed = try await watcher.nextChanges(relevant: known.isRelevant)
            } catch {
                return 130
            }
            let root = FileSystem.absolute(directory, base: FileSystem.currentDirectory())
            let names = changed.prefix(5).map { FileSystem.display($0, relativeTo: root) }.joined(separator: ", ")
            console.handle(.note("swbpf: changed: \(names)\(changed.count > 5 ? " and \(changed.count - 5) more" : "")"))
        }
    }

    /// One round; its build (and the lock it holds) is released before the watch waits.
    private static func runRound(_ round: (BuildReporter) async -> (status: Int32, prepared: PreparedBuild?),
                                 console: BuildReporter) async -> (Int32, WatchSet?) {
        let (status, prepared) = await round(console)
        return (status, prepared.flatMap(WatchSet.init))
    }
}
