import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// A plain build that finds nothing to do, told by stat alone (`NoopRecord`): the normal path
/// writes the record when it found nothing to do, and
/// the next build with the same command line checks it before anything else. Only plain `swbpf build` lines take it (the command line
/// reader marks them with their key); a dry run, `--explain`, `-B` and every other command never do.
public enum NoopFastPath {
    /// What a build's decision depends on besides the files it looks at: the command line as
    /// typed, the whole environment (knobs, PATH, CC...), the working directory, who runs it, the
    /// kernel, and the swbpf binary itself. The environment is hashed as the process received it
    /// (`environ`: every entry, a repeated name too), so any change to it is a new key; sorted by
    /// name, as launchers pass the same variables in different orders; hashed in place, with no
    /// string made, as every no-op pays for it.
    public static func key(arguments: [String], workingDirectory: String) -> Digest {
        var hasher = SHA256()
        func add(_ text: UnsafePointer<CChar>) { hasher.update(UnsafeRawBufferPointer(start: text, count: strlen(text) + 1)) }
        func add(_ text: String) { text.withCString { add($0) } }
        func add<Integer: FixedWidthInteger>(_ value: Integer) { withUnsafeBytes(of: value) { hasher.update($0) } }
        add(NoopRecord.header)
        add(workingDirectory)
        add(geteuid())
        add(getegid())
        if let binary = FileSignature.of("/proc/self/exe") {
            for field in [binary.device, binary.inode, UInt64(bitPattern: binary.size), UInt64(bitPattern: binary.mtimeNanoseconds),
                          UInt64(bitPattern: binary.ctimeNanoseconds)] { add(field) }
        } else {
            add("unknown binary")
        }
        var names = utsname()
        uname(&names)
        // Each field by name: a key path is instantiated at run time, a quarter of a fast no-op.
        func add(field: UnsafeRawBufferPointer) { add(field.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        withUnsafeBytes(of: names.release) { add(field: $0) }
        withUnsafeBytes(of: names.version) { add(field: $0) }
        withUnsafeBytes(of: names.machine) { add(field: $0) }
        add(arguments.count)
        for argument in arguments { add(argument) }
        for variable in EnvironmentEntry.sortedByName() { add(variable.text) }
        return ContentHash.digest(of: &hasher)
    }

    /// Whether the request may be answered by a record, and so whether its no-op writes one.
    static func applies(to request: BuildRequest) -> Bool {
        request.noopKey != nil && !request.dryRun && !request.explain && !request.alwaysRun && !request.timings
            && request.traceFile == nil && !request.compileCommands && !request.kernelLoader && request.runsHere == nil
    }

    /// Where the records are: the default output directory's state directory (a project whose
    /// swbpf.toml or target chooses another output directory always takes the normal path).
    static func stateDirectory(root: String) -> String {
        OpenedProject.stateDirectory(inOutput: FileSystem.join(root, Project.defaultOutputDirectory))
    }

    static func root(of request: BuildRequest) -> String {
        FileSystem.absolute(request.directory, base: FileSystem.currentDirectory())
    }

    /// Ends the build with today's no-op line when its record says nothing changed and no other
    /// build holds the lock; false otherwise (the caller takes the normal path).
    public static func finish(_ request: BuildRequest, console: BuildReporter, since begin: Date) -> Bool {
        guard let key = request.noopKey, applies(to: request) else { return false }
        let state = stateDirectory(root: root(of: request))
        // Taken before the check and held until the process exits, as the normal path holds it
        // while it decides: no build changes the files between the check and the answer.
        guard let lock = BuildLock.tryAcquire(path: BuildSession.lockPath(stateDirectory: state)),
              let upToDate = NoopRecord.upToDateCount(stateDirectory: state, key: key) else { return false }
        withExtendedLifetime(lock) {
            console.handle(.buildFinished(summary: BuildSummary(ran: 0, upToDate: upToDate, failed: [], skipped: 0, interrupted: false,
                                                                started: begin, ended: Date())))
        }
        return true
    }

    /// Starts a build the normal way, observing every path its decision looks at; when it found
    /// nothing to do and said nothing but its last line, records that for the next build.
    static func startRecording(_ request: BuildRequest, console: BuildReporter, record: (BuildReporter) -> BuildSession.Start)
        -> BuildSession.Start {
        guard let key = request.noopKey, applies(to: request) else { return record(console) }
        let observer = FileObserver()
        let listener = SilenceListener(console)
        let start = FileObserver.$current.withValue(observer) { record(listener) }
        guard case .ended(0, let build?) = start, listener.silent, !observer.ranProcess, let executor = build.executor, executor.predicted.isEmpty,
              !build.project.config.compileCommands,
              OpenedProject.stateDirectory(of: build.project) == stateDirectory(root: build.project.root) else { return start }
        // The lock file holds the pid of its last holder, so every build changes it; it says who
        // builds, not what, and the fast path takes the lock itself. The records' directory is
        // only made by the decision, never read.
        let state = stateDirectory(root: build.project.root)
        let unread: Set = [BuildSession.lockPath(of: build.project), FileSystem.join(state, NoopRecord.directoryName)]
        let noop = NoopRecord(key: key, upToDate: executor.steps.count, paths: observer.observed.filter { !unread.contains($0.path) })
        // Only an accelerator: a record that cannot be written leaves the normal path, which is exact.
        try? noop.save(stateDirectory: state)
        return start
    }
}

/// Passes every event on, and notes whether the build said anything besides its last line (a
/// note, a warning, a step): such a build is not answered from a record, which could not repeat it.
private final class SilenceListener: BuildReporter {
    private let next: BuildReporter
    private(set) var silent = true

    init(_ next: BuildReporter) { self.next = next }

    func handle(_ event: BuildEvent) {
        switch event {
        // Seen by the console only as counts: the no-op's last line is all it prints.
        case .planned, .upToDate, .buildFinished: break
        default: silent = false
        }
        next.handle(event)
    }
}

/// One `NAME=value` entry of the process's environment, where it lies.
private struct EnvironmentEntry {
    let text: UnsafePointer<CChar>
    let nameLength: Int
    let position: Int

    /// The entries ordered by name; a repeated name keeps its order, since `getenv` reads the first.
    static func sortedByName() -> [EnvironmentEntry] {
        var entries: [EnvironmentEntry] = []
        while let text = environ[entries.count] {
            entries.append(EnvironmentEntry(text: text, nameLength: strcspn(text, "="), position: entries.count))
        }
        return entries.sorted { a, b in
            let order = memcmp(a.text, b.text, min(a.nameLength, b.nameLength))
            if order != 0 { return order < 0 }
            return a.nameLength != b.nameLength ? a.nameLength < b.nameLength : a.position < b.position
        }
    }
}
