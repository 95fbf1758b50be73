#if canImport(Glibc)
import Glibc
#endif

/// Content fingerprints: SHA-256, truncated to 128 bits. Computed only when a file's stat data
/// differs from what was recorded.
public enum ContentHash {
    public static func of(file path: String) -> Digest? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return digest(hasher.finalize())
    }

    public static func of(bytes: [UInt8]) -> Digest {
        digest(SHA256.hash(bytes))
    }

    private static func digest<D: Sequence>(_ bytes: D) -> Digest where D.Element == UInt8 {
        let first = Array(bytes.prefix(16))
        let word = { (range: Range<Int>) in first[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Digest(high: word(0..<8), low: word(8..<16))
    }
}
