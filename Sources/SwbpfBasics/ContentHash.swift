#if canImport(Glibc)
import Glibc
#endif

/// Content fingerprints: SHA-256, truncated to 128 bits. Computed only when a file's stat data
/// differs from what was recorded.
public enum ContentHash {
    /// The digest of a regular file (through a symbolic link); nil for anything else, which is
    /// never opened blocking: a FIFO or /dev/zero would never end.
    public static func of(file path: String) -> Digest? {
        FileObserver.note(path)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
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

    /// The digest of what `hasher` was given.
    public static func digest(of hasher: inout SHA256) -> Digest {
        digest(hasher.finalize())
    }

    private static func digest<D: Sequence>(_ bytes: D) -> Digest where D.Element == UInt8 {
        let first = Array(bytes.prefix(16))
        let word = { (range: Range<Int>) in first[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Digest(high: word(0..<8), low: word(8..<16))
    }
}

/// A content fingerprint: 128 bits of SHA-256, kept as two integers so the no-op path allocates
/// nothing to compare them.
public struct Digest: Hashable, Sendable, Codable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Recorded for an input that could not be read, or that changed while its step ran: it
    /// matches no file, so the step runs again next time.
    public static let unknown = Digest(high: 0, low: 0)

    /// Parses 32 hex digits. Every no-op build parses one per recorded input, so it runs on the
    /// bytes in place.
    package init?(hex: UnsafeBufferPointer<UInt8>.SubSequence) {
        guard hex.count == 32, let base = hex.base.baseAddress else { return nil }
        func word(_ start: Int) -> UInt64? {
            var value: UInt64 = 0
            for offset in start..<start + 16 {
                let byte = base[offset]
                let digit = byte &- UInt8(ascii: "0"), letter = byte &- UInt8(ascii: "a")
                guard digit < 10 || letter < 6 else { return nil }
                value = value << 4 | UInt64(digit < 10 ? digit : letter &+ 10)
            }
            return value
        }
        guard let high = word(hex.startIndex), let low = word(hex.startIndex + 16) else { return nil }
        self.init(high: high, low: low)
    }

    /// Parses 32 hex digits.
    package init?(hex bytes: [UInt8]) {
        guard let digest = bytes.withUnsafeBufferPointer({ Digest(hex: $0[...]) }) else { return nil }
        self = digest
    }

    /// 32 hex digits.
    public var description: String {
        func hex(_ word: UInt64) -> String {
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }
}
