import SwbpfBasics
import SwbpfModel

/// SHA-256 as 64 lowercase hex digits: the names of cache entries, locally and in the Bazel
/// remote-cache protocol (`/cas/<sha256 of the bytes>`, `/ac/<sha256 of the action key>`).
package enum SHA256Hex {
    package static func of<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hex(SHA256.hash(Array(bytes)))
    }

    package static func of(text: String) -> String { of(Array(text.utf8)) }

    package static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    package static func isValid(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// The two-level key of a step in the shared cache, as ccache's direct mode and Bazel's action
/// cache do it. The first level, known before the step runs, covers the tool, the command and the
/// declared inputs' contents; it names a manifest that lists the headers the step read last time.
/// The second level adds those headers' contents and names the entry that lists the outputs.
///
/// Nothing in either key depends on where the checkout is or which machine it is on: project
/// paths are relative, the project root in a word (`-ffile-prefix-map=ROOT=.`) is replaced by a
/// placeholder, and the tool is named by role, program name, version, leading words and the
/// program that runs (its resolved path, with the project root replaced, and the digest of its
/// bytes), not by mtime: the program name tells `cc` from `aarch64-linux-gnu-gcc` of the same
/// version, and the digest a wrapper script from the compiler it wraps.
public enum CacheKey {
    /// Bumped whenever what a key covers, or the format of what it names, changes.
    package static let version = "swbpf-cache-key 4"

    /// The manifest key of `step`, or nil when an input cannot be read (nothing to key on).
    /// `digest` gives the content digest of a path (relative to the root, or absolute).
    /// `treeDigest` gives a source tree's content fingerprint (`TreeFingerprint`), and
    /// `resolved` a path with its links resolved (nil when that cannot be known).
    public static func manifest(of step: Step, root: String, digest: (String) -> Digest?, treeDigest: (TreeInput) -> Digest? = { _ in nil },
                                resolved: (String) -> String? = { _ in nil }) -> String? {
        var text = version + "\n"
        text += "kind \(step.kind.rawValue)\n"
        let tool = step.tool
        text += "tool " + line(tool.role.rawValue, FileSystem.split(tool.displayName).base, tool.version, tool.leadingArguments.joined(separator: " "),
                                portable(tool.executable, root: root)) + "\n"
        let treePlaces = step.treeInputs.map { FileSystem.absolute($0.path, base: root) }
        for word in step.displayCommand.dropFirst() {
            // A tree's directory is named by where it is: `../libbpf` from one project is
            // `../../libbpf` from another. The tree lines below cover it.
            if let tree = step.treeInputs.first(where: { word.hasPrefix($0.path + "/") || word == $0.path }) {
                text += "arg-in-tree \(line(String(word.dropFirst(tree.path.count))))\n"
            } else {
                // The tree's absolute path, in its -ffile-prefix-map, too.
                let word = treePlaces.reduce(word) { replacing($1, with: "${TREE}", in: $0) }
                text += "arg \(line(portable(word, root: root)))\n"
            }
        }
        for (tree, place) in zip(step.treeInputs, treePlaces) {
            guard let value = treeDigest(tree), value != .unknown else { return nil }
            // make compiles in the tree: its directory is in the products' debug info (the
            // compiler records the directory the kernel resolves, links and all) unless the step
            // maps it out, and the directory mapped is the one seen through no link.
            let independent = tree.pathMapped && resolved(place) == place && resolved(root) == root
            let fields = (independent ? [] : [place]) + [tree.excluded.joined(separator: ",")]
            text += "tree \(line(fields)) \(value)\n"
        }
        if let file = step.standardOutput { text += "stdout \(line(file))\n" }
        // Not the precompiled header a compile loads: its bytes hold the checkout's absolute paths,
        // and what it is made of is on the compile's own command line and among its headers.
        for input in step.inputs {
            guard let value = digest(input), value != .unknown else { return nil }
            text += "in \(line(input)) \(value)\n"
            // A PCH names the header it was made from by its absolute path, and clang loads it
            // only where that file is (measured: the rest of it is the same in any checkout).
            if step.kind == .precompiledHeader { text += "at \(line(FileSystem.absolute(input, base: root)))\n" }
        }
        return SHA256Hex.of(text: text)
    }

    /// The entry key: the manifest key and the content of every header the manifest lists.
    public static func entry(manifest: String, headers: [(path: String, digest: Digest)]) -> String {
        var text = version + "\nmanifest \(manifest)\n"
        for header in headers { text += "header \(line(header.path)) \(header.digest)\n" }
        return SHA256Hex.of(text: text)
    }

    /// `word` with the project root replaced by a placeholder wherever it starts a path.
    package static func portable(_ word: String, root: String) -> String { replacing(root, with: "${ROOT}", in: word) }

    /// `word` with the directory `path` replaced by `placeholder` wherever it is a whole path.
    private static func replacing(_ path: String, with placeholder: String, in word: String) -> String {
        guard path.count > 1, word.contains(path) else { return word }
        var out = ""
        var position = word.startIndex
        for range in word.ranges(of: path) where range.lowerBound >= position {
            let next = word[range.upperBound...].first
            // Only a whole path component: /tmp/p must not match inside /tmp/project.
            guard next == nil || next == "/" || next == "=" else { continue }
            out += word[position..<range.lowerBound] + placeholder
            position = range.upperBound
        }
        return out + word[position...]
    }

    /// Fields joined by a space, each with newlines and the separator escaped.
    package static func line(_ fields: String...) -> String { line(fields) }

    package static func line(_ fields: [String]) -> String { fields.map(RecordText.escape).map { $0.replacing(" ", with: "%20") }.joined(separator: " ") }
}

/// A manifest: the headers a step read when it last ran, one per line (the first level of the key).
package struct CacheManifest: Equatable, Sendable {
    package static let header = "swbpf-cache-manifest 1"
    /// Each header's name (`name(of:searchOrder:root:)`).
    package var headers: [String]

    package var bytes: [UInt8] { Array(([Self.header] + headers.map(RecordText.escape)).joined(separator: "\n").utf8 + [0x0A]) }

    package init(headers: [String]) { self.headers = headers }

    package init?(bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(Self.header), lines.last == "" else { return nil }
        headers = lines.dropFirst().dropLast().map { CacheEntry.unescape(String($0)) }
    }

    /// How a manifest names a header the step read (`header`, as the state names it: relative to
    /// the project root inside it, else absolute). A header found under an include directory the
    /// command names relative to the project (`-I../third_party/libbpf/include/uapi`) is named
    /// through that directory (`../third_party/libbpf/include/uapi/linux/bpf.h`): another
    /// checkout with the same layout has the same command, reads the same name, hashes its own
    /// file under it, and finds the entry. Any other header keeps the state's name.
    package static func name(of header: String, searchOrder: [String], root: String) -> String {
        guard header.hasPrefix("/") else { return header }
        for directory in searchOrder where !directory.hasPrefix("/") {
            let place = FileSystem.absolute(directory, base: root)
            if header.hasPrefix(place + "/") { return FileSystem.join(directory, String(header.dropFirst(place.count + 1))) }
        }
        return header
    }

    /// The header a manifest's name stands for in the checkout at `root`, as the state names it.
    package static func header(named name: String, root: String) -> String { FileSystem.display(name, relativeTo: root) }
}

/// An entry: the outputs of a step, each named by the SHA-256 of its bytes (the blob that holds
/// it), with its size and whether it is executable.
package struct CacheEntry: Equatable, Sendable {
    package static let header = "swbpf-cache-entry 1"

    package struct Output: Equatable, Sendable {
        package var path: String
        package var sha256: String
        package var size: Int
        package var executable: Bool

        package init(path: String, sha256: String, size: Int, executable: Bool) {
            self.path = path
            self.sha256 = sha256
            self.size = size
            self.executable = executable
        }
    }
    package var outputs: [Output]

    package var bytes: [UInt8] {
        let lines = outputs.map { "\($0.sha256) \($0.size) \($0.executable ? "x" : "-") \(RecordText.escape($0.path))" }
        return Array(([Self.header] + lines).joined(separator: "\n").utf8 + [0x0A])
    }

    package init(outputs: [Output]) { self.outputs = outputs }

    package init?(bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first == Substring(Self.header), lines.last == "" else { return nil }
        var outputs: [Output] = []
        for line in lines.dropFirst().dropLast() {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, SHA256Hex.isValid(String(fields[0])), let size = Int(fields[1]), size >= 0,
                  fields[2] == "x" || fields[2] == "-" else { return nil }
            outputs.append(Output(path: Self.unescape(String(fields[3])), sha256: String(fields[0]), size: size, executable: fields[2] == "x"))
        }
        self.outputs = outputs
    }

    /// Undoes `RecordText.escape`.
    package static func unescape(_ text: String) -> String {
        text.contains("%") ? RecordText.percentDecoded(Array(text.utf8)) : text
    }
}
