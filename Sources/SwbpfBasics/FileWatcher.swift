#if canImport(Glibc)
import Glibc
#endif

/// Watches directories with inotify and reports, a burst at a time, which files in them changed.
/// Directories rather than files: editors save by writing a new file and renaming it over the old
/// one, which a watch on the old file's inode would miss.
package final class FileWatcher {
    private let fd: Int32
    private var descriptors: [String: Int32] = [:]
    private var directories: [Int32: String] = [:]

    package static let events = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY
                               | IN_DELETE_SELF | IN_MOVE_SELF)

    package init() throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw FileError.cannotRead(path: "inotify", reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    package var watchedDirectories: Int { descriptors.count }

    /// Watches exactly `wanted` (absolute paths); directories that do not exist are skipped.
    package func watch(_ wanted: Set<String>) {
        for (directory, descriptor) in descriptors where !wanted.contains(directory) {
            inotify_rm_watch(fd, descriptor)
            descriptors[directory] = nil
            directories[descriptor] = nil
        }
        for directory in wanted where descriptors[directory] == nil {
            let descriptor = inotify_add_watch(fd, directory, Self.events)
            guard descriptor >= 0 else { continue }
            descriptors[directory] = descriptor
            directories[descriptor] = directory
        }
    }

    /// Waits until a file for which `relevant` says yes changes, then gathers the rest of the
    /// burst until `quietMilliseconds` pass without another relevant change, and returns the
    /// changed paths. Throws CancellationError when the task is cancelled.
    package func nextChanges(quietMilliseconds: Int32 = 250, relevant: (String) -> Bool) async throws -> [String] {
        var changed: [String] = []
        while true {
            // Short waits, so that Ctrl-C (a cancelled task) ends the watch promptly.
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, changed.isEmpty ? 100 : quietMilliseconds)
            try Task.checkCancellation()
            if ready < 0 && errno != EINTR { throw FileError.cannotRead(path: "inotify", reason: String(cString: strerror(errno))) }
            if ready == 0 {
                if !changed.isEmpty { return changed }
                await Task.yield()
                continue
            }
            let burst = readEvents().filter(relevant)
            for path in burst where !changed.contains(path) { changed.append(path) }
        }
    }

    /// The paths named by the events waiting to be read. A queue overflow names every watched
    /// directory, so whatever was lost is looked at again.
    private func readEvents() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var paths: [String] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return paths }
            var offset = 0
            while offset + 16 <= count {
                let (descriptor, mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self), raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<min(offset + 16 + length, count)].prefix { $0 != 0 }
                offset += 16 + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    paths += directories.values
                    continue
                }
                guard let directory = directories[descriptor] else { continue }
                paths.append(nameBytes.isEmpty ? directory : FileSystem.join(directory, String(decoding: nameBytes, as: UTF8.self)))
            }
        }
    }
}
