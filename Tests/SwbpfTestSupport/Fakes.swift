import Foundation
import Synchronization
import Testing
import SwbpfBasics
import SwbpfModel
import SwbpfToolchain
import SwbpfBuild
import SwbpfKernel
import SwbpfViews
import SwbpfScaffolding
import SwbpfDriver

// The executor against an in-memory file system and a fake process runner, as ninja's
// build_test.cc tests its builder: scheduling, up-to-date decisions, failures and what is
// recorded, in milliseconds and without a compiler.

/// Files as bytes with stat data that a clock advances on every write.
package final class MemoryFileSystem: BuildFileSystem {
    package init() {}

    package struct File { var bytes: [UInt8]; var mtime: Int64; var inode: UInt64 }
    package let root = "/project"
    private let rootPresent = Mutex(true)
    package var rootIsPresent: Bool { rootPresent.withLock { $0 } }
    /// As if the project directory were moved away.
    package func removeRoot() { rootPresent.withLock { $0 = false } }
    private let files = Mutex<[String: File]>([:])
    private let inodes = Atomic<Int>(1)

    package func absolute(_ path: String) -> String { FileSystem.join(root, path) }

    package func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    package func write(_ path: String, _ bytes: [UInt8]) {
        // Mtimes come from the clock a kernel stamps them with, as the executor compares them with
        // the time a step started; every write is a new inode, as an editor's save-and-rename is.
        let inode = UInt64(inodes.add(1, ordering: .relaxed).newValue)
        let key = absolute(path)
        files.withLock { $0[key] = File(bytes: bytes, mtime: Executor.fileTimeNow(), inode: inode) }
    }

    package func text(_ path: String) -> String? { read(path).map { String(decoding: $0, as: UTF8.self) } }

    package var paths: Set<String> { files.withLock { Set($0.keys) } }

    package func stat(_ path: String) -> FileStat? {
        files.withLock { $0[absolute(path)] }.map { FileStat(size: Int64($0.bytes.count), mtimeNanoseconds: $0.mtime, inode: $0.inode) }
    }
    package func digest(_ path: String) -> Digest? { read(path).map(ContentHash.of(bytes:)) }
    package func read(_ path: String) -> [UInt8]? { files.withLock { $0[absolute(path)]?.bytes } }
    package func write(_ path: String, _ bytes: [UInt8], executable: Bool) throws { write(path, bytes) }
    package func rename(_ from: String, to: String) throws {
        try files.withLock { files in
            guard let file = files.removeValue(forKey: absolute(from)) else {
                throw FileError.cannotWrite(path: to, reason: "No such file or directory")
            }
            files[absolute(to)] = file
        }
    }
    package func remove(_ path: String) { _ = files.withLock { $0.removeValue(forKey: absolute(path)) } }
    package func removeStaleTemporaries(in directory: String) {}
    /// Directories exist where files are below them.
    package func entries(_ directory: String) -> [(name: String, isDirectory: Bool)]? {
        let prefix = absolute(directory) + "/"
        var found: [String: Bool] = [:]
        for path in paths where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            let name = String(rest.prefix { $0 != "/" })
            found[name] = found[name] == true || rest.count > name.count
        }
        return found.isEmpty ? nil : found.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
    package func createDirectory(_ path: String) throws {}
    package func removeTree(_ path: String) {
        let key = absolute(path)
        files.withLock { files in files = files.filter { $0.key != key && !$0.key.hasPrefix(key + "/") } }
    }
}

/// A stand-in for every tool: each output is the tool's name followed by the contents of every
/// input it names, a compiler's depfile lists its source and `common.h`, and tests can make a
/// step fail, stall or edit a file while it runs.
package final class FakeRunner: ProcessRunning {
    package enum Behaviour: Sendable {
        case fail(status: Int32)
        case writeNothing
        case cannotLaunch
        case cannotWriteOutput
        case editWhileRunning(path: String, text: String)
    }

    package let files: MemoryFileSystem
    private let behaviours: Mutex<[String: Behaviour]>
    private let log = Mutex<[String]>([])
    private let concurrency = Mutex<(now: Int, most: Int)>((0, 0))

    package init(files: MemoryFileSystem, behaviours: [String: Behaviour] = [:]) {
        self.files = files
        self.behaviours = Mutex(behaviours)
    }

    /// The outputs each run was for, in the order the runs started.
    package var ran: [String] { log.withLock { $0 } }
    package var mostAtOnce: Int { concurrency.withLock { $0.most } }

    package func setBehaviour(_ behaviour: Behaviour?, for output: String) { behaviours.withLock { $0[output] = behaviour } }

    package func run(_ request: ProcessRequest) async throws -> ProcessOutcome {
        let temporaries = request.arguments.filter { $0.hasSuffix(FileSystem.temporarySuffix) }
            + (request.standardOutputFile.map { [$0] } ?? [])
        // The real name of the step's first output: the key tests use.
        let output = Self.realName(of: temporaries.first { !$0.contains(".d.") } ?? "")
        log.withLock { $0.append(output) }
        concurrency.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { concurrency.withLock { $0.now -= 1 } }
        try await Task.sleep(for: .milliseconds(2))
        switch behaviours.withLock({ $0[output] }) {
        case .fail(let status)?:
            return ProcessOutcome(status: status, signalled: false, standardOutput: [], standardError: Array("broken\n".utf8))
        case .writeNothing?:
            return ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])
        case .cannotLaunch?:
            throw ProcessFailure.couldNotLaunch(path: request.executable, reason: "Permission denied")
        case .cannotWriteOutput?:
            throw ProcessFailure.couldNotWriteOutput(path: request.standardOutputFile ?? output, reason: "No space left on device")
        case .editWhileRunning(let path, let text)?:
            files.write(path, text)
        case nil:
            break
        }
        let inputs = request.arguments.filter { !$0.hasSuffix(FileSystem.temporarySuffix) && files.stat($0) != nil }
        // The command's words and its inputs' bytes, and for a compile the header it reads: the
        // output changes exactly when one of them does, as a real tool's would.
        var contents = Array((request.executable + " " + request.arguments.filter { !$0.contains(FileSystem.temporarySuffix) }
            .joined(separator: " ")).utf8)
        for input in inputs { contents += files.read(input) ?? [] }
        if request.arguments.contains("-c") { contents += files.read("common.h") ?? [] }
        for temporary in temporaries {
            if temporary.contains(".d.") {
                files.write(temporary, "x.o: \(inputs.joined(separator: " ")) common.h\n")
            } else {
                files.write(temporary.hasPrefix("/") ? FileSystem.display(temporary, relativeTo: files.root) : temporary, contents)
            }
        }
        return ProcessOutcome(status: 0, signalled: false, standardOutput: [], standardError: [])
    }

    /// `.output/.kprobe.o.123.swbpf-tmp` → `.output/kprobe.o`.
    package static func realName(of temporary: String) -> String {
        let relative = temporary.hasPrefix("/") ? FileSystem.display(temporary, relativeTo: "/project") : temporary
        let (directory, base) = FileSystem.split(relative)
        let parts = base.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        return FileSystem.join(directory, parts.dropLast(2).joined(separator: "."))
    }
}

extension MemoryFileSystem {
    /// A fresh fake project for ExecutorTests.plan(): its sources, the kernel's BTF, libbpf.a and a header every compile reads.
    package static func twoAppProject() -> MemoryFileSystem {
        let files = MemoryFileSystem()
        for name in ["a.bpf.c", "a.c", "b.bpf.c", "b.c", "util.c", "common.h", "/sys/kernel/btf/vmlinux",
                     "/usr/lib/x86_64-linux-gnu/libbpf.a"] {
            files.write(name, "/* \(name) v1 */")
        }
        return files
    }
}

/// Keeps every event.
package final class EventLog: BuildReporter {
    package init() {}

    package var events: [BuildEvent] = []
    package func handle(_ event: BuildEvent) { events.append(event) }

    package var started: [String] { events.compactMap { if case .started(let step, _, _, _) = $0 { return step.primaryOutput } else { return nil } } }
    package var reasons: [String: String] {
        var result: [String: String] = [:]
        for case .started(let step, _, let reason, _) in events { result[step.primaryOutput] = reason }
        return result
    }
    package var restored: [String] { events.compactMap { if case .restored(let step, _, _, _, _, _, _) = $0 { return step.primaryOutput } else { return nil } } }
    package var upToDate: [String] { events.compactMap { if case .upToDate(let step) = $0 { return step.primaryOutput } else { return nil } } }
    package var failures: [String: StepFailure] {
        var result: [String: StepFailure] = [:]
        for case .finished(let step, _, .failed(let failure), _, _, _) in events { result[step.primaryOutput] = failure }
        return result
    }
    package var skipped: [String] { events.compactMap { if case .skipped(let step, _) = $0 { return step.primaryOutput } else { return nil } } }
}

/// A small seeded generator, so a failing sequence can be replayed.
package struct SplitMix {
    package var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}
