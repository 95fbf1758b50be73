import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfBuild

/// The no-op record as a file, and the observations it is made of, on a scratch directory.
@Suite final class NoopRecordTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-noop-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/include", withIntermediateDirectories: true)
        try Data("int x;\n".utf8).write(to: URL(fileURLWithPath: directory + "/a.c"))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func observe(_ body: () -> Void) -> [ObservedPath] {
        let observer = FileObserver()
        FileObserver.$current.withValue(observer, operation: body)
        return observer.observed
    }

    @Test func theFileRoundTripsAndATornOneIsRefused() throws {
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
        // Checked in place, as the fast path does: the count only for the same key, whole, unchanged.
        #expect(NoopRecord.upToDateCount(record.bytes, key: record.key) == 7)
        #expect(NoopRecord.upToDateCount(record.bytes, key: .unknown) == nil)
        #expect(NoopRecord.upToDateCount(Array(record.bytes.dropLast()), key: record.key) == nil)
        #expect(NoopRecord.upToDateCount(record.bytes + [0], key: record.key) == nil)
        try Data("int y;\n".utf8).write(to: URL(fileURLWithPath: directory + "/a.c"))
        #expect(NoopRecord.upToDateCount(record.bytes, key: record.key) == nil, "an edited file")
    }

    @Test func aMissingPathIsWatchedItselfSoASiblingIsNoChange() throws {
        let missing = directory + "/include/missing.h"
        let paths = observe { _ = FileSystem.exists(missing) }
        #expect(paths == [ObservedPath(path: missing, followsLinks: true, signature: nil)])
        try Data("sibling\n".utf8).write(to: URL(fileURLWithPath: directory + "/include/other.h"))
        #expect(NoopRecord(key: .unknown, upToDate: 0, paths: paths).isCurrent, "another file in the directory changes nothing the build read")
        try Data("shadow\n".utf8).write(to: URL(fileURLWithPath: missing))
        #expect(!NoopRecord(key: .unknown, upToDate: 0, paths: paths).isCurrent, "the missing file appearing is a change")
    }

    @Test func aRelativePathIsRecordedFromTheDirectoryItWasLookedUpIn() {
        // The record is checked before swbpf enters the project directory (`swbpf -C dir`).
        let name = "swbpf-noop-never-made-\(UUID().uuidString.prefix(8))/../x.h"
        let paths = observe { _ = FileSystem.exists(name) }
        #expect(paths.map(\.path) == [FileSystem.currentDirectory() + "/" + name])
    }

    /// Sets `path`'s mtime a minute back, as a directory the build did not just change has it.
    func settle(_ path: String) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: path)
    }

    @Test func aListedDirectoryStandsForItsMissingEntriesOnlyWhenListedFirst() throws {
        let include = directory + "/include"
        try settle(include)
        let listedFirst = observe {
            _ = FileSystem.list(include)
            _ = FileSystem.exists(include + "/missing.h")
        }
        #expect(listedFirst.map(\.path) == [include], "the listing's signature changes with any new entry")
        let lookedFirst = observe {
            _ = FileSystem.exists(include + "/missing.h")
            _ = FileSystem.list(include)
        }
        #expect(lookedFirst.map(\.path) == [include + "/missing.h", include],
                "a file made between the look and the listing would be in the listing's signature: both are kept")
        try Data("shadow\n".utf8).write(to: URL(fileURLWithPath: include + "/missing.h"))
        #expect(!NoopRecord(key: .unknown, upToDate: 0, paths: listedFirst).isCurrent)
    }

    @Test func aDirectoryChangedInTheLastSecondsDoesNotStandForItsMissingEntries() throws {
        // A file made in the same clock tick as the directory's last change would leave its mtime
        // as it was: the missing entry is watched itself until the directory's mtime is settled.
        let include = directory + "/include"
        try Data("new\n".utf8).write(to: URL(fileURLWithPath: include + "/fresh.h"))
        let listed = observe {
            _ = FileSystem.list(include)
            _ = FileSystem.exists(include + "/missing.h")
        }
        #expect(listed.map(\.path) == [include, include + "/missing.h"])
        try settle(include)
        let settled = observe {
            _ = FileSystem.list(include)
            _ = FileSystem.exists(include + "/missing.h")
        }
        #expect(settled.map(\.path) == [include])
    }

    @Test func aDecisionThatRanAProgramSaysSo() async throws {
        let observer = FileObserver()
        try await FileObserver.$current.withValue(observer) {
            _ = try await ProcessRunner.capture("/bin/true", [])
        }
        #expect(observer.ranProcess, "a program's answer is not a file the record could watch")
        #expect(!FileObserver().ranProcess)
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

    @Test func aLinkAsTheRecordsDirectoryIsNotFollowed() throws {
        let state = directory + "/state"
        let victim = directory + "/victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: state + "/" + NoopRecord.directoryName, withDestinationPath: victim)
        try NoopRecord(key: ContentHash.of(bytes: [1]), upToDate: 1, paths: []).save(stateDirectory: state)
        #expect(FileSystem.list(victim) == [], "nothing written through the link")
    }

    @Test func onlyTheNewestRecordsAreKept() throws {
        let state = directory + "/state"
        try FileManager.default.createDirectory(atPath: state + "/" + NoopRecord.directoryName, withIntermediateDirectories: true)
        let keys = (0...NoopRecord.recordsKept).map { ContentHash.of(bytes: [UInt8($0)]) }
        for (index, key) in keys.enumerated() {
            try NoopRecord(key: key, upToDate: 1, paths: []).save(stateDirectory: state)
            // Distinct times, oldest first, whatever the file system's clock granularity.
            var times = [timespec(tv_sec: 1_000_000 + index, tv_nsec: 0), timespec(tv_sec: 1_000_000 + index, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, NoopRecord.path(stateDirectory: state, key: key), &times, 0) == 0)
        }
        try NoopRecord(key: keys[NoopRecord.recordsKept], upToDate: 2, paths: []).save(stateDirectory: state)
        let kept = Set(FileSystem.list(state + "/" + NoopRecord.directoryName) ?? [])
        #expect(kept == Set(keys.dropFirst().map(\.description)), "the oldest record goes")
    }
}
