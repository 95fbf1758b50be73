import Glibc
import SwbpfBasics

/// The libbpf, bpftool and vmlinux.h a project pins, found where its Makefile would look for them.
///
/// Discovery walks up from the project directory to the top of its repository (the directory
/// holding `.git`; without one, at most `levelsWithoutRepository` levels) and looks at each level
/// for the conventional names, nearest level first: `libbpf/`, `bpftool/`,
/// `third_party/{libbpf,bpftool,vmlinux}`, `vmlinux/$ARCH` (the starter template),
/// `vmlinux.h/include/$ARCH` (libbpf-bootstrap), `src/cc/libbpf` and `$ARCH/vmlinux.h` (bcc's
/// libbpf-tools, whose Makefile uses `../src/cc/libbpf` and `$(ARCH)/vmlinux.h`) and a plain `vmlinux.h`. The nearest one of each
/// kind wins, even when it cannot be used: then the build says why and uses the system's, rather
/// than reach for a farther tree the Makefile would not use. It costs a stat per name and level.
package struct PinnedTrees: Equatable, Sendable {
    package enum Found: Equatable, Sendable {
        /// A complete tree (libbpf, bpftool), or the directory holding vmlinux.h: absolute, and as
        /// commands name it (relative to the project).
        case usable(path: String, display: String)
        /// The nearest one, seen but not used: why, and how to fix it.
        case passedOver(display: String, reason: String)
    }

    package var libbpf: Found?
    package var bpftool: Found?
    package var vmlinux: Found?
    /// Every place looked at for vmlinux.h, for the error of a build for another machine.
    package var vmlinuxPlaces: [String] = []

    package static let levelsWithoutRepository = 4
    static let libbpfNames = ["libbpf", "third_party/libbpf", "src/cc/libbpf"]
    static let bpftoolNames = ["bpftool", "third_party/bpftool"]
    /// Directories holding one vmlinux.h per architecture, and where, below each, it is.
    static let vmlinuxDirectories = [("third_party/vmlinux", ""), ("vmlinux", ""), ("vmlinux.h", "include/")]

    /// The directories discovery looks in, nearest first: `root` and each directory above it up to
    /// the one holding `.git`, or, when none above holds one, at most `levelsWithoutRepository` of them.
    package static func levels(from root: String) -> [String] {
        var chain = [root]
        while let last = chain.last, last != "/" { chain.append(FileSystem.split(last).directory) }
        if let top = chain.firstIndex(where: { FileSystem.exists(FileSystem.join($0, ".git")) }) {
            return Array(chain[...top])
        }
        return Array(chain.prefix(levelsWithoutRepository + 1))
    }

    /// Looks for each of libbpf, bpftool and vmlinux.h (for an architecture known by `archNames`;
    /// a plain `vmlinux.h` above the project only for the host, whose it is as far as anyone can tell).
    package static func discover(from root: String, archNames: [String], isHost: Bool) -> PinnedTrees {
        var found = PinnedTrees()
        for (depth, level) in levels(from: root).enumerated() {
            func display(_ name: String) -> String {
                let up = Array(repeating: "..", count: depth).joined(separator: "/")
                return name.isEmpty ? (up.isEmpty ? "." : up) : FileSystem.join(up, name)
            }
            if found.libbpf == nil { found.libbpf = firstTree(.libbpf, libbpfNames, level, display) }
            if found.bpftool == nil { found.bpftool = firstTree(.bpftool, bpftoolNames, level, display) }
            if found.vmlinux == nil { found.vmlinux = found.vendoredHeaders(level, depth: depth, archNames: archNames, isHost: isHost, display) }
            if found.libbpf != nil, found.bpftool != nil, found.vmlinux != nil { break }
        }
        return found
    }

    private static func firstTree(_ kind: SourceTrees.Kind, _ names: [String], _ level: String, _ display: (String) -> String) -> Found? {
        for name in names {
            let path = FileSystem.join(level, name)
            guard FileSystem.isDirectory(path) else { continue }
            return SourceTrees.examine(kind, at: path, display: display(name))
        }
        return nil
    }

    private mutating func vendoredHeaders(_ level: String, depth: Int, archNames: [String], isHost: Bool,
                                          _ display: (String) -> String) -> Found? {
        for (name, below) in Self.vmlinuxDirectories {
            let directory = FileSystem.join(level, name)
            let places = archNames.map { below + $0 }
            vmlinuxPlaces += places.map { display(FileSystem.join(name, FileSystem.join($0, "vmlinux.h"))) }
            guard FileSystem.isDirectory(directory) else { continue }
            for place in places where FileSystem.exists(FileSystem.join(directory, FileSystem.join(place, "vmlinux.h"))) {
                let headers = FileSystem.join(directory, place)
                let shown = display(FileSystem.join(name, place))
                if let distrust = TreeTrust.distrust(headers) {
                    return .passedOver(display: shown, reason: TreeTrust.notUsed(shown, distrust))
                }
                return .usable(path: headers, display: shown)
            }
            if SourceTrees.isEmptyCheckout(directory) {
                return .passedOver(display: display(name), reason: SourceTrees.notCheckedOut(display(name), kind: "vmlinux.h"))
            }
            return .passedOver(display: display(name), reason: "'\(display(name))' holds no vmlinux.h for this architecture (looked for "
                               + places.map { FileSystem.join($0, "vmlinux.h") }.joined(separator: ", ") + ")")
        }
        // `$ARCH/vmlinux.h` in the level itself (libbpf-tools keeps x86/, arm64/... beside its tools);
        // a level without one says nothing, as a directory of that name would be any project's.
        for arch in archNames {
            let headers = FileSystem.join(level, arch)
            guard FileSystem.stat(FileSystem.join(headers, "vmlinux.h")).map({ !$0.isDirectory }) == true else { continue }
            vmlinuxPlaces.append(display(FileSystem.join(arch, "vmlinux.h")))
            if let distrust = TreeTrust.distrust(headers) {
                return .passedOver(display: display(arch), reason: TreeTrust.notUsed(display(arch), distrust))
            }
            return .usable(path: headers, display: display(arch))
        }
        // A plain vmlinux.h in the project directory is the project's own (`localVmlinuxHeader`).
        let header = FileSystem.join(level, "vmlinux.h")
        guard depth > 0, isHost, FileSystem.stat(header).map({ !$0.isDirectory }) == true else { return nil }
        if let distrust = TreeTrust.distrust(header) {
            return .passedOver(display: display("vmlinux.h"), reason: TreeTrust.notUsed(display("vmlinux.h"), distrust))
        }
        return .usable(path: level, display: display(""))
    }
}

/// Whether a tree the build would run or include sits where only the user (or root) can change
/// it. swbpf is often run as root: a libbpf tree planted under /tmp by another user would have its
/// Makefile run as root.
package enum TreeTrust {
    /// Why `path` cannot be trusted, or nil when it can: it, or a directory on the way to it
    /// (the path as named and as resolved), belongs to another user, or a directory on the way is
    /// writable by others without being the user's own and without the sticky bit (which keeps
    /// others from replacing entries they do not own, as in /tmp).
    package static func distrust(_ path: String) -> String? {
        let user = geteuid()
        FileObserver.note(path)
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        var checked = Set<String>()
        for start in [FileSystem.normalize(path), resolved] {
            var current = start
            while checked.insert(current).inserted {
                FileObserver.note(current)
                var info = Glibc.stat()
                guard stat(current, &info) == 0 else { break }
                let what = current == start ? "it" : "'\(current)', a directory above it,"
                var reason: String?
                if info.st_uid != user, info.st_uid != 0 {
                    reason = "\(what) belongs to \(userName(info.st_uid)), not to you or root"
                } else if info.st_uid != user, current != start, info.st_mode & 0o022 != 0, info.st_mode & S_ISVTX == 0 {
                    reason = "\(what) is writable by others (mode \(String(info.st_mode & 0o7777, radix: 8)))"
                }
                if let reason { return "\(reason), so someone else could change what this build runs" }
                if current == "/" { break }
                current = FileSystem.split(current).directory
            }
        }
        return nil
    }

    /// What discovery says of a tree it does not trust.
    package static func notUsed(_ display: String, _ distrust: String) -> String {
        "'\(display)' is not used: \(distrust); move it where only you (or root) can write, or name it in swbpf.toml if you trust it"
    }

    /// What the build says of a tree named in swbpf.toml (or by a knob) that it does not trust, and uses.
    package static func usedAnyway(_ display: String, _ distrust: String, origin: String) -> String {
        "'\(display)' (\(origin)) is used as configured, but \(distrust)"
    }

    private static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "user \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}
