/// The text form of swbpf's own record files (the build state, the tool answers, the cache's
/// entries): lines of fields, where each field has the bytes that would end it percent-encoded.
package enum RecordText {
    /// Tabs, newlines and the two item separators (U+001E, U+001F) as `%XX`, and `%` itself.
    package static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x25 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x1E || $0 == 0x1F })
        else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%", "\t", "\n", "\r", "\u{1e}", "\u{1f}":
                out += "%" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One field as a String: its bytes, percent-decoded where the writer escaped a separator.
    package static func field(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence) -> String {
        guard bytes.contains(0x25) else { return String(decoding: bytes, as: UTF8.self) }
        return percentDecoded(bytes)
    }

    /// Undoes `escape` (`%XX` back to its byte).
    package static func percentDecoded<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8, Bytes.Index == Int {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x25, index + 2 < bytes.endIndex,
               let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Lines of a buffer, without their newline; a last line with no newline is not returned.
package struct LineReader {
    package let buffer: UnsafeBufferPointer<UInt8>
    package var position = 0

    package init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

    package mutating func nextLine() -> UnsafeBufferPointer<UInt8>.SubSequence? {
        var end = position
        while end < buffer.count, buffer[end] != 0x0A { end += 1 }
        guard end < buffer.count else { return nil }
        defer { position = end + 1 }
        return buffer[position..<end]
    }
}

/// Fields of a line, split on one separator byte; empty fields are returned as empty.
package struct FieldReader {
    package let line: UnsafeBufferPointer<UInt8>.SubSequence
    package let separator: UInt8
    package var position: Int
    package var finished: Bool

    package init(_ line: UnsafeBufferPointer<UInt8>.SubSequence, separator: UInt8) {
        self.line = line
        self.separator = separator
        position = line.startIndex
        finished = line.isEmpty
    }

    package var atEnd: Bool { finished }

    package mutating func next() -> UnsafeBufferPointer<UInt8>.SubSequence? {
        guard !finished else { return nil }
        var end = position
        while end < line.endIndex, line[end] != separator { end += 1 }
        let field = line[position..<end]
        if end == line.endIndex { finished = true } else { position = end + 1 }
        return field
    }
}
