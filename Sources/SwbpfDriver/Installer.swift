import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf install`: copies the built binaries of the selected apps, and their aliases as
/// symbolic links, into `$DESTDIR$PREFIX/bin`, as libbpf-tools' `make install` does, and each
/// app's small BTFs (`btf-for`) into `$DESTDIR$PREFIX/lib/APP/btf/RELEASE.btf`, where its user
/// part looks for them relative to its binary (lib/, as they are for one architecture). Each file is
/// written under a temporary name and renamed into place, so a binary being run is never
/// overwritten while it runs and an interrupted install leaves no half-written file.
public enum Installer {
    public struct Installed: Sendable, Equatable {
        /// `INSTALL` or `SYMLINK`.
        public var label: String
        public var path: String
    }

    /// The directory binaries go to: `$DESTDIR$PREFIX/bin` (DESTDIR is a staging root that is
    /// prepended to the absolute prefix, as with make).
    public static func binDirectory(prefix: String, destdir: String?) -> String {
        installDirectory("bin", prefix: prefix, destdir: destdir)
    }

    /// `$DESTDIR$PREFIX/lib/APP/btf`.
    public static func btfDirectory(app: String, prefix: String, destdir: String?) -> String {
        installDirectory("lib/\(app)/btf", prefix: prefix, destdir: destdir)
    }

    private static func installDirectory(_ subdirectory: String, prefix: String, destdir: String?) -> String {
        let prefixed = FileSystem.normalize(prefix.hasPrefix("/") ? prefix : "/" + prefix)
        let root = (destdir ?? "").isEmpty ? "" : FileSystem.normalize(destdir!)
        return FileSystem.normalize(root + prefixed + "/" + subdirectory)
    }

    /// Installs what a finished build of `prepared` made for its selected apps.
    public static func install(_ prepared: PreparedBuild, prefix: String, destdir: String?) throws -> [Installed] {
        guard let opened = prepared.opened else { return [] }
        let root = prepared.project.root
        let directory = binDirectory(prefix: prefix, destdir: destdir)
        try FileSystem.createDirectory(directory)
        var installed: [Installed] = []
        for step in opened.selectedSteps where step.kind == .minCoreBTF {
            let btfDirectory = btfDirectory(app: step.app ?? "", prefix: prefix, destdir: destdir)
            try FileSystem.createDirectory(btfDirectory)
            let target = FileSystem.join(btfDirectory, FileSystem.split(step.primaryOutput).base)
            try copyFile(FileSystem.absolute(step.primaryOutput, base: root), to: target, mode: 0o644)
            installed.append(Installed(label: "INSTALL", path: target))
        }
        for step in opened.selectedSteps where step.kind.linksBinary || step.kind == .alias {
            let source = FileSystem.absolute(step.primaryOutput, base: root)
            let target = FileSystem.join(directory, FileSystem.split(step.primaryOutput).base)
            if step.kind.linksBinary {
                try copyFile(source, to: target, mode: 0o755)
                installed.append(Installed(label: "INSTALL", path: target))
            } else {
                try copyLink(source, to: target)
                installed.append(Installed(label: "SYMLINK", path: target))
            }
        }
        return installed
    }

    package static func copyFile(_ source: String, to target: String, mode: mode_t) throws {
        guard let bytes = FileSystem.read(source) else {
            throw FileError.cannotRead(path: source, reason: String(cString: strerror(errno)))
        }
        let temporary = FileSystem.temporarySibling(of: target)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError.cannotWrite(path: target, reason: String(cString: strerror(errno))) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw FileError.cannotWrite(path: target, reason: reason)
            }
            offset += written
        }
        // The mode given to open is masked by the umask; an installed file has its mode whatever it is.
        fchmod(fd, mode)
        close(fd)
        try rename(temporary, to: target)
    }

    /// Recreates the symbolic link `source` (what it points to, as written) at `target`.
    package static func copyLink(_ source: String, to target: String) throws {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(source, &buffer, buffer.count - 1)
        guard length > 0 else { throw FileError.cannotRead(path: source, reason: String(cString: strerror(errno))) }
        let pointsTo = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let temporary = FileSystem.temporarySibling(of: target)
        unlink(temporary)
        guard symlink(pointsTo, temporary) == 0 else { throw FileError.cannotWrite(path: target, reason: String(cString: strerror(errno))) }
        try rename(temporary, to: target)
    }

    private static func rename(_ temporary: String, to target: String) throws {
        do { try FileSystem.rename(temporary, to: target) } catch {
            unlink(temporary)
            throw error
        }
    }
}
