/// The bytes of a document, checked once before parsing: valid UTF-8, and no byte TOML forbids
/// everywhere (control characters other than tab, a carriage return not followed by a line feed).
/// It also records where each line starts, so any byte offset turns into a line and column.
package struct TOMLSource {
    package let bytes: [UInt8]
    /// 3 when the document starts with a UTF-8 byte order mark, which TOML allows and ignores.
    package let contentStart: Int
    private var lineStarts: [Int] = [0]

    package init(validating bytes: [UInt8]) throws(TOMLError) {
        self.bytes = bytes
        contentStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        cache = (line: 0, offset: contentStart, column: 1)
        try validate()
    }

    private mutating func validate() throws(TOMLError) {
        var index = contentStart
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0x0A {
                    lineStarts.append(index + 1)
                } else if byte == 0x0D {
                    if index + 1 >= count || bytes[index + 1] != 0x0A {
                        throw TOMLError("a carriage return (U+000D) must be followed by a line feed: TOML lines end with LF or CRLF",
                                        at: position(at: index))
                    }
                } else if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    throw TOMLError(Self.forbiddenControlMessage(byte), at: position(at: index))
                }
                index += 1
                continue
            }
            let length = Self.scalarLength(bytes, at: index)
            guard length > 0 else {
                throw TOMLError("invalid UTF-8 (byte 0x\(Self.hex(bytes[index]))): a TOML document must be UTF-8 text",
                                at: position(at: index))
            }
            index += length
        }
    }

    private static func forbiddenControlMessage(_ byte: UInt8) -> String {
        let code = "U+00" + Self.hex(byte)
        if byte == 0 {
            return "a NUL byte (U+0000) is not allowed in TOML (is this a binary or UTF-16 file? TOML is UTF-8 text)"
        }
        let escape = byte == 0x7F ? "\\u007F" : "\\u00" + Self.hex(byte)
        return "control character \(code) is not allowed in TOML; inside a basic string write it as \(escape)"
    }

    /// The length of the well-formed UTF-8 sequence at `index`, or 0 when it is malformed (overlong
    /// forms, surrogates and values above U+10FFFF included).
    private static func scalarLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { return 0 }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// Two upper-case hexadecimal digits, for messages about bytes.
    package static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    /// The last position computed, so that the next one, usually a little further on the same
    /// line, counts columns from there: without it a long line would cost time quadratic in its length.
    private var cache: (line: Int, offset: Int, column: Int)

    /// The line and column of a byte offset; the column counts Unicode scalars.
    package mutating func position(at offset: Int) -> TOMLPosition {
        let line: Int
        var column: Int
        var index: Int
        let cachedLineEnd = cache.line + 1 < lineStarts.count ? lineStarts[cache.line + 1] : Int.max
        if offset >= cache.offset, offset < cachedLineEnd {
            (line, index, column) = cache
        } else {
            // The last line start at or before `offset`.
            var low = 0, high = lineStarts.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
            }
            line = low
            index = low == 0 ? contentStart : lineStarts[low]
            column = 1
        }
        let end = min(offset, bytes.count)
        while index < end {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        cache = (line, index, column)
        return TOMLPosition(line: line + 1, column: column)
    }
}

