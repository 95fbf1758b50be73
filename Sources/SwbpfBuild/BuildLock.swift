import FoundationEssentials
import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a project's output directory, so that two builds of one project never
/// write the same files at once. The second waits, says so once, and gives up after a timeout.
public final class BuildLock {
    package let fd: Int32

    /// Takes ownership of a locked descriptor and writes this process's pid into the file, so
    /// that a build that has to wait can say which one it waits for.
    private init(claiming fd: Int32) {
        self.fd = fd
        let mine = Array("pid \(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = mine.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }

    /// The lock if it is free right now, else nil (nothing is waited for, nothing is printed).
    public static func tryAcquire(path: String) -> BuildLock? {
        while true {
            guard let fd = try? openLockFile(path) else { return nil }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); return nil }
            if isCurrent(fd, path: path) { return BuildLock(claiming: fd) }
            close(fd)
        }
    }

    public static func acquire(path: String, timeoutSeconds: Int, onWait: (String) -> Void) async throws -> BuildLock {
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        var announced = false
        while true {
            let fd = try openLockFile(path)
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let holder = Self.holder(fd: fd)
                if !announced {
                    onWait("swbpf: waiting for another build of this project to finish (\(holder))...")
                    announced = true
                }
                if Date() >= deadline || Task.isCancelled {
                    close(fd)
                    if Task.isCancelled { throw CancellationError() }
                    throw OutputError.lockTimeout(path: path, seconds: timeoutSeconds, holder: holder)
                }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            if isCurrent(fd, path: path) { return BuildLock(claiming: fd) }
            close(fd)
        }
    }

    /// Whether the locked descriptor is still the file at `path`. A full `swbpf clean` removes the
    /// lock file while it holds the lock; whoever waited on the removed file must lock the new one,
    /// or two commands would each hold "the" lock.
    private static func isCurrent(_ fd: Int32, path: String) -> Bool {
        var locked = Glibc.stat()
        guard fstat(fd, &locked) == 0, let named = FileSystem.stat(path) else { return false }
        return UInt64(locked.st_ino) == named.inode
    }

    /// Opens (creating it if need be) the lock file, which is truncated and written once locked:
    /// so it must be swbpf's own. A symbolic link in its place, or as the directory it lives in
    /// (swbpf's own directory, where the state is written too), is refused, never followed; so is
    /// anything but a regular file with no other name.
    package static func openLockFile(_ path: String) throws -> Int32 {
        let directory = FileSystem.split(path).directory
        if FileSystem.isSymbolicLink(directory) {
            throw OutputError.notSwbpfsOwn(path: directory, problem: linkProblem(directory))
        }
        // O_NONBLOCK: opening a FIFO planted there must not wait for a writer.
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            if errno == ELOOP { throw OutputError.notSwbpfsOwn(path: path, problem: linkProblem(path)) }
            throw FileError.cannotWrite(path: path, reason: FileSystem.lastError())
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = FileSystem.lastError()
            close(fd)
            throw FileError.cannotWrite(path: path, reason: reason)
        }
        let problem: String? = if (info.st_mode & S_IFMT) != S_IFREG { "is not a regular file" }
            else if info.st_nlink > 1 { "has \(info.st_nlink - 1) other hard link(s)" }
            else { nil }
        if let problem {
            close(fd)
            throw OutputError.notSwbpfsOwn(path: path, problem: problem)
        }
        return fd
    }

    private static func linkProblem(_ path: String) -> String {
        "is a symbolic link" + (FileSystem.linkTarget(path).map { " to '\($0)'" } ?? "")
    }

    private static func holder(fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmed() : ""
        return text.isEmpty ? "pid unknown" : text
    }
}
