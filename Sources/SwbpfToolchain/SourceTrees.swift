import SwbpfBasics

/// How to recognise the libbpf and bpftool source trees and the vendored vmlinux.h headers that
/// projects in the libbpf-bootstrap tradition keep as submodules (`PinnedTrees` finds them), and
/// what a libbpf tree says about itself.
package enum SourceTrees {
    package enum Kind: String {
        case libbpf, bpftool

        /// The files that make a directory a source tree of this kind.
        package var markers: [String] {
            switch self {
            case .libbpf: return ["src/Makefile", "src/libbpf.map"]
            case .bpftool: return ["src/Makefile", "src/main.c"]
            }
        }
    }

    /// Whether a tree found by discovery can be used: it must be trusted (`TreeTrust`) and
    /// complete. An empty or half-populated one (a submodule not, or not wholly, checked out) is
    /// passed over with the reason, never silently.
    package static func examine(_ kind: Kind, at path: String, display: String) -> PinnedTrees.Found {
        if let distrust = TreeTrust.distrust(path) { return .passedOver(display: display, reason: TreeTrust.notUsed(display, distrust)) }
        if let problem = incompleteness(kind, at: path, display: display) { return .passedOver(display: display, reason: problem.reason) }
        return .usable(path: path, display: display)
    }

    /// The tree a swbpf.toml key names: it must be a complete tree of `kind`. It is the user's
    /// choice, so a tree others could change is used, with the warning that says so.
    package static func named(_ kind: Kind, _ value: String, root: String, key: String) throws -> (path: String, display: String, warning: String?) {
        let path = FileSystem.absolute(value, base: root)
        guard FileSystem.isDirectory(path) else {
            throw SourceTreeError.notATree(kind: kind.rawValue, path: value, key: key, markers: kind.markers)
        }
        switch incompleteness(kind, at: path, display: value) {
        case .notCheckedOut(let kind, let display)?: throw SourceTreeError.emptySubmodule(kind: kind, path: display)
        case .missing(let part, let display, let files)? where part != kind.rawValue:
            throw SourceTreeError.halfPopulated(kind: part, path: display, missing: files)
        case .missing?: throw SourceTreeError.notATree(kind: kind.rawValue, path: value, key: key, markers: kind.markers)
        case nil: return (path, value, TreeTrust.distrust(path).map { TreeTrust.usedAnyway(value, $0, origin: "swbpf.toml " + key) })
        }
    }

    /// What keeps a tree from being built: a submodule not checked out, or one half-populated
    /// (some of its marker files missing); for bpftool, the same of its own libbpf submodule.
    enum Incompleteness {
        case notCheckedOut(kind: String, display: String)
        case missing(kind: String, display: String, files: [String])

        var reason: String {
            switch self {
            case .notCheckedOut(let kind, let display): return SourceTrees.notCheckedOut(display, kind: kind)
            case .missing(let kind, let display, let files):
                return "'\(display)' is a \(kind) tree but looks half-populated (no \(files.joined(separator: ", "))): not used; "
                    + "run 'git submodule update --init --recursive' in the repository"
            }
        }
    }

    static func incompleteness(_ kind: Kind, at path: String, display: String) -> Incompleteness? {
        func check(_ kind: String, _ path: String, _ display: String, markers: [String]) -> Incompleteness? {
            if isEmptyCheckout(path) { return .notCheckedOut(kind: kind, display: display) }
            let missing = markers.filter { !FileSystem.exists(FileSystem.join(path, $0)) }
            return missing.isEmpty ? nil : .missing(kind: kind, display: display, files: missing)
        }
        if let problem = check(kind.rawValue, path, display, markers: kind.markers) { return problem }
        guard kind == .bpftool else { return nil }
        return check("bpftool's libbpf", FileSystem.join(path, "libbpf"), FileSystem.join(display, "libbpf"), markers: Kind.libbpf.markers)
    }

    /// Why a submodule directory with nothing in it is not used, and how to check it out.
    static func notCheckedOut(_ display: String, kind: String) -> String {
        "'\(display)' is empty: the \(kind) submodule is not checked out (the repository was cloned without --recursive): not used; "
            + "run 'git submodule update --init --recursive' in the repository"
    }

    /// A directory with nothing in it but, perhaps, a `.git` file: what `git clone` leaves for a
    /// submodule without `--recursive`.
    package static func isEmptyCheckout(_ path: String) -> Bool {
        guard let names = FileSystem.list(path) else { return false }
        return names.allSatisfy { $0 == ".git" }
    }

    // MARK: What a libbpf tree says about itself

    /// The version in a libbpf tree's `src/libbpf.map` (its newest `LIBBPF_X.Y.Z` node), checked
    /// against `src/libbpf_version.h` when the tree has one.
    package static func libbpfTreeVersion(_ tree: String) throws -> String {
        let mapPath = FileSystem.join(tree, "src/libbpf.map")
        guard let map = FileSystem.readText(mapPath) else {
            throw FileError.cannotRead(path: mapPath, reason: "it is missing or unreadable")
        }
        var best: [Int] = []
        for line in map.split(separator: "\n") where line.hasPrefix("LIBBPF_") {
            let name = line.dropFirst("LIBBPF_".count).prefix { $0.isNumber || $0 == "." }
            let parts = name.split(separator: ".").compactMap { Int($0) }
            if parts.count == 3, best.lexicographicallyPrecedes(parts) { best = parts }
        }
        guard !best.isEmpty else { throw SourceTreeError.noVersion(path: mapPath) }
        let version = best.map(String.init).joined(separator: ".")
        if let header = headerVersion(FileSystem.join(tree, "src/libbpf_version.h")),
           !version.hasPrefix(header + ".") {
            throw SourceTreeError.inconsistentTree(path: tree, map: version, header: header)
        }
        return version
    }

    /// `MAJOR.MINOR` from a libbpf_version.h, or nil.
    package static func headerVersion(_ path: String) -> String? {
        guard let text = FileSystem.readText(path) else { return nil }
        func value(_ name: String) -> String? {
            for line in text.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if words.count >= 3, words[0] == "#define", words[1] == name { return String(words[2]) }
            }
            return nil
        }
        guard let major = value("LIBBPF_MAJOR_VERSION"), let minor = value("LIBBPF_MINOR_VERSION") else { return nil }
        return "\(major).\(minor)"
    }

    /// The headers a libbpf tree's Makefile installs: its `HEADERS := ...` list (continued over
    /// backslash-newlines), each checked to exist in src/.
    package static func installedHeaders(_ tree: String) throws -> [String] {
        let makefile = FileSystem.join(tree, "src/Makefile")
        guard let text = FileSystem.readText(makefile) else {
            throw FileError.cannotRead(path: makefile, reason: "it is missing or unreadable")
        }
        var words: [String] = []
        var inList = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var body = Substring(line)
            if !inList {
                let trimmed = body.drop { $0 == " " || $0 == "\t" }
                guard trimmed.hasPrefix("HEADERS"), let assign = trimmed.firstIndex(of: "=") else { continue }
                let name = trimmed[..<assign].filter { $0 != " " && $0 != "\t" && $0 != ":" }
                guard name == "HEADERS" else { continue }
                body = trimmed[trimmed.index(after: assign)...]
                inList = true
            }
            let continued = body.hasSuffix("\\")
            words += body.dropLast(continued ? 1 : 0).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if !continued { break }
        }
        guard !words.isEmpty, words.allSatisfy({ $0.hasSuffix(".h") && !$0.contains("$") && !$0.contains("/") }) else {
            throw SourceTreeError.noHeaderList(path: makefile)
        }
        for header in words where !FileSystem.exists(FileSystem.join(tree, "src/" + header)) {
            throw SourceTreeError.missingHeader(path: FileSystem.join(tree, "src/" + header), makefile: makefile)
        }
        return words
    }

    /// `MAJOR.MINOR` from the version string libbpf compiles into itself (`libbpf_version_string()`
    /// returns "vMAJOR.MINOR"), found as a NUL-terminated string in the archive; nil when absent.
    package static func archiveVersion(_ path: String) -> String? {
        guard let bytes = FileSystem.read(path) else { return nil }
        var index = 0
        while index + 4 < bytes.count {
            // "\0v<digits>.<digits>\0"
            if bytes[index] == 0, bytes[index + 1] == UInt8(ascii: "v") {
                var end = index + 2
                var dots = 0, digits = 0
                while end < bytes.count, bytes[end] != 0, end - index < 12 {
                    if bytes[end] == UInt8(ascii: ".") { dots += 1 } else if bytes[end] >= 48 && bytes[end] <= 57 { digits += 1 } else { break }
                    end += 1
                }
                if end < bytes.count, bytes[end] == 0, dots == 1, digits >= 2, bytes[index + 2] != UInt8(ascii: "."),
                   bytes[end - 1] != UInt8(ascii: ".") {
                    return String(decoding: bytes[(index + 2)..<end], as: UTF8.self)
                }
                index = end
                continue
            }
            index += 1
        }
        return nil
    }

    /// A vmlinux.h that is a few bytes naming a sibling file: a symbolic link that git checked
    /// out as a plain file (core.symlinks=false). Returns the name it holds.
    package static func linkStoredAsFile(_ header: String) -> String? {
        guard let stat = FileSystem.stat(header), stat.size < 256, let text = FileSystem.readText(header) else { return nil }
        let name = text.trimmed([" ", "\n", "\r", "\t"])
        guard !name.isEmpty, !name.contains("\n"), !name.contains("#"),
              FileSystem.exists(FileSystem.join(FileSystem.split(header).directory, name)) else { return nil }
        return name
    }
}

/// What is wrong with a source tree the build would use.
public enum SourceTreeError: DiagnosticError, Equatable {
    case emptySubmodule(kind: String, path: String)
    case notATree(kind: String, path: String, key: String, markers: [String])
    case halfPopulated(kind: String, path: String, missing: [String])
    case noVersion(path: String)
    case inconsistentTree(path: String, map: String, header: String)
    case noHeaderList(path: String)
    case missingHeader(path: String, makefile: String)
    case vmlinuxLinkAsFile(path: String, target: String)
    /// An archive and headers of two different libbpfs.
    case mixedLibbpf(archive: String, archiveVersion: String, headers: String, headersVersion: String, origin: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .emptySubmodule(let kind, let path):
            return Diagnostic(.error, "'\(path)' is empty: the \(kind) submodule is not checked out (the repository was cloned without --recursive)",
                              help: "run 'git submodule update --init --recursive' in the repository, or choose another \(kind) in swbpf.toml")
        case .halfPopulated(let kind, let path, let missing):
            return Diagnostic(.error, "'\(path)' is a \(kind) tree but looks half-populated: it has no \(missing.joined(separator: " and "))",
                              help: "run 'git submodule update --init --recursive' in the repository")
        case .notATree(let kind, let path, let key, let markers):
            return Diagnostic(.error, "'\(path)' (swbpf.toml \(key)) is not a \(kind) source tree: it has no \(markers.joined(separator: " and "))",
                              help: "point \(key) at the root of a \(kind) checkout, or set it to \"system\"")
        case .noVersion(let path):
            return Diagnostic(.error, "cannot tell the libbpf version: '\(path)' has no LIBBPF_X.Y.Z version node",
                              help: "check that the libbpf tree is complete")
        case .inconsistentTree(let path, let map, let header):
            return Diagnostic(.error, "the libbpf tree '\(path)' is inconsistent: src/libbpf.map says \(map) but src/libbpf_version.h says \(header)",
                              help: "check the tree out again (git checkout -- .)")
        case .noHeaderList(let path):
            return Diagnostic(.error, "cannot find the list of installed headers (HEADERS := ...) in '\(path)'",
                              help: "check that this is libbpf's own src/Makefile, or build libbpf yourself and set LIBBPF_OBJ")
        case .missingHeader(let path, let makefile):
            return Diagnostic(.error, "'\(path)', which \(makefile) installs, does not exist", help: "check the libbpf tree out again")
        case .vmlinuxLinkAsFile(let path, let target):
            return Diagnostic(.error, "'\(path)' is a symbolic link that git checked out as a file holding '\(target)' (core.symlinks is false)",
                              help: "enable symbolic links and check out again (git config core.symlinks true && git checkout -- .), or set vmlinux in swbpf.toml to the file it names")
        case .mixedLibbpf(let archive, let archiveVersion, let headers, let headersVersion, let origin):
            return Diagnostic(.error, "libbpf.a and libbpf's headers come from two libbpfs: \(archive) (\(origin)) is libbpf \(archiveVersion), the headers in \(headers) are libbpf \(headersVersion)",
                              help: "use one libbpf: install that archive's headers beside it (make -C LIBBPF/src install_headers DESTDIR=DIR INCLUDEDIR=) or name them with [libbpf] include, or build libbpf from its source tree with [libbpf] source = \"DIR\" in swbpf.toml")
        }
    }
}
