import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfBuild

/// The no-op record as a file, and the observations it is made of, on a scratch directory.
@Suite struct NoopRecordTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-noop-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/include", withIntermediateDirectories: true)
        try Data("int x;\n".utf8).write(to: URL(fileURLWithPath: directory + "/a.c"))
    }

    func observe(_ body: () -> Void) -> [ObservedPath] {
        let observer = FileObserver()
        FileObserver.$current.withValue(observer, operation: body)
        return observer.observed
    }

    @Test func theFileRoundTripsAndATornOneIsRefused() {
        let paths = observe {
            _ = FileSystem.stat(directory + "/a.c")
            _ = FileSystem.exists(directory + "/include/missing.h")
            _ = FileSystem.isSymbolicLink(directory + "/a.c")
        }
        let record = NoopRecord(key: ContentHash.of(bytes: [1, 2, 3]), upToDate: 7, paths: paths)
        #expect(NoopRecord.parse(record.bytes) == record)
        #expect(record.isCurrent)
        #expect(NoopRecord.parse(Array(record.bytes.dropLast())) == nil)
        #expect(NoopRecord.parse(Array("swbpf-noop 0\n".utf8) + record.bytes.drop(while: { $0 != 0x0A }).dropFirst()) == nil)
    }

    @Test func aMissingPathIsWatchedThroughItsDirectory() throws {
        let paths = observe { _ = FileSystem.exists(directory + "/include/missing.h") }
        #expect(paths.map(\.path) == [directory + "/include"], "the directory stands for the missing header")
        try Data("shadow\n".utf8).write(to: URL(fileURLWithPath: directory + "/include/other.h"))
        #expect(!NoopRecord(key: .unknown, upToDate: 0, paths: paths).isCurrent, "a new entry in the directory is a change")
    }

    @Test func anEditAChmodOrAReplacementIsAChange() throws {
        let file = directory + "/a.c"
        for change in [
            { try Data("int y;\n".utf8).write(to: URL(fileURLWithPath: file)) },
            { _ = chmod(file, 0o600) },
            { try FileManager.default.removeItem(atPath: file); try Data("int x;\n".utf8).write(to: URL(fileURLWithPath: file)) },
        ] as [() throws -> Void] {
            let paths = observe { _ = FileSystem.read(file) }
            #expect(NoopRecord(key: .unknown, upToDate: 0, paths: paths).isCurrent)
            try change()
            #expect(!NoopRecord(key: .unknown, upToDate: 0, paths: paths).isCurrent)
        }
    }

    @Test func onlyTheFirstLookCountsAndNothingIsObservedOutsideARecording() {
        #expect(FileObserver.current == nil)
        let paths = observe {
            _ = FileSystem.stat(directory + "/a.c")
            _ = FileSystem.read(directory + "/a.c")
        }
        #expect(paths.count == 1)
    }
}
