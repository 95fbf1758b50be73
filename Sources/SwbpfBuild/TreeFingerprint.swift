import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// Computes a tree's fingerprint: every regular file's path (relative to the root) and content
/// digest, in a fixed order. Each file's digest comes from the build state while its stat data is
/// unchanged, so fingerprinting an unchanged tree costs a directory walk and a stat per file,
/// and hashes nothing.
package enum TreeFingerprint {
    /// The fingerprint, or nil when the tree's root cannot be read.
    package static func digest(of tree: TreeInput, state: BuildState, files: BuildFileSystem) -> Digest? {
        guard let top = files.entries(tree.path) else { return nil }
        let excluded = Set(tree.excluded.filter { !$0.hasPrefix("*") })
        let excludedSuffixes = tree.excluded.filter { $0.hasPrefix("*") }.map { String($0.dropFirst()) }
        var summary: [UInt8] = []
        func walk(_ relative: String, _ entries: [(name: String, isDirectory: Bool)]) {
            for entry in entries where entry.name != ".git" {
                let path = relative.isEmpty ? entry.name : relative + "/" + entry.name
                if excluded.contains(path) || (!entry.isDirectory && excludedSuffixes.contains(where: entry.name.hasSuffix)) { continue }
                let full = FileSystem.join(tree.path, path)
                if entry.isDirectory {
                    walk(path, files.entries(full) ?? [])
                    continue
                }
                // A dangling link or an unreadable file still counts, as a file without content.
                let digest = files.stat(full).flatMap { state.currentDigest(of: full, stat: $0, files: files) } ?? .unknown
                summary += Array(path.utf8)
                summary.append(0)
                for word in [digest.high, digest.low] {
                    for shift in stride(from: 56, through: 0, by: -8) { summary.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
                }
            }
        }
        walk("", top)
        return ContentHash.of(bytes: summary)
    }
}
