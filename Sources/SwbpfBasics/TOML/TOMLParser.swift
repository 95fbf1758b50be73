/// Reads a TOML 1.0 document from UTF-8 bytes in one pass. Positions are byte offsets while
/// reading and become line and column only for values, keys and errors.
package struct TOMLParser {
    private var source: TOMLSource
    private let bytes: [UInt8]
    private var index: Int
    /// How deep arrays, inline tables and dotted keys are nested, bounded so hostile input cannot
    /// exhaust the stack (building and freezing the tables recurses once per level).
    private var depth = 0
    package static let maximumDepth = 200

    /// Checks the bytes (encoding and forbidden characters) before anything is parsed.
    package init(_ bytes: [UInt8]) throws(TOMLError) {
        source = try TOMLSource(validating: bytes)
        self.bytes = bytes
        index = source.contentStart
    }

    package mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        let root = MutableTable(origin: .document, position: TOMLPosition(line: 1, column: 1))
        var current = root
        var currentPath: [String] = []
        while true {
            skipWhitespace()
            switch peek() {
            case 0 where atEnd:
                return root.frozen()
            case UInt8(ascii: "#"):
                skipComment()
            case 0x0A, 0x0D:
                skipNewline()
            case UInt8(ascii: "["):
                let header = position(at: index)
                let isArray = peek(1) == UInt8(ascii: "[")
                index += isArray ? 2 : 1
                skipWhitespace()
                let parts = try parseKey(context: isArray ? "an array-of-tables header" : "a table header")
                let close = isArray ? "]]" : "]"
                guard peek() == UInt8(ascii: "]"), !isArray || peek(1) == UInt8(ascii: "]") else {
                    throw unexpected("expected '\(close)' to close the header")
                }
                index += isArray ? 2 : 1
                current = isArray ? try TOMLDefinitions.appendTable(parts, header: header, in: root)
                                  : try TOMLDefinitions.defineTable(parts, header: header, in: root)
                currentPath = parts.map(\.name)
                try expectLineEnd(after: "the header [\(isArray ? "[" : "")\(TOMLDefinitions.display(currentPath))\(close)")
            default:
                let parts = try parseKeyValue(into: current, scopePath: currentPath)
                try expectLineEnd(after: "the value of '\(TOMLDefinitions.display(currentPath + parts.map(\.name)))'")
            }
        }
    }

    // MARK: Bytes and positions

    private var atEnd: Bool { index >= bytes.count }

    /// The byte `offset` places ahead, or 0 past the end (a real NUL never gets this far).
    private func peek(_ offset: Int = 0) -> UInt8 {
        let at = index + offset
        return at < bytes.count ? bytes[at] : 0
    }

    private mutating func position(at offset: Int) -> TOMLPosition { source.position(at: offset) }

    private mutating func skipWhitespace() {
        while peek() == 0x20 || peek() == 0x09 { index += 1 }
    }

    private mutating func skipComment() {
        while !atEnd, peek() != 0x0A, peek() != 0x0D { index += 1 }
    }

    /// LF or CRLF (validation guarantees a CR is followed by LF).
    private mutating func skipNewline() {
        if peek() == 0x0D { index += 1 }
        if peek() == 0x0A { index += 1 }
    }

    private var atNewline: Bool { peek() == 0x0A || peek() == 0x0D }

    /// Whitespace, comments and newlines, as allowed between array elements.
    private mutating func skipBlankSpace() {
        while true {
            skipWhitespace()
            if peek() == UInt8(ascii: "#") { skipComment() }
            guard atNewline else { return }
            skipNewline()
        }
    }

    /// After a key/value pair or a header: optional whitespace and comment, then the end of the line.
    private mutating func expectLineEnd(after what: @autoclosure () -> String) throws(TOMLError) {
        skipWhitespace()
        if peek() == UInt8(ascii: "#") { skipComment() }
        if atEnd { return }
        guard atNewline else {
            throw unexpected("expected the end of the line after \(what())")
        }
        skipNewline()
    }

    /// What is at the current position, for messages: a quoted character, or the end of the line or file.
    private func found() -> String {
        if atEnd { return "the end of the file" }
        if atNewline { return "the end of the line" }
        let byte = peek()
        if byte < 0x80 { return "'\(Character(Unicode.Scalar(byte)))'" }
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: bytes[index..<end], as: UTF8.self)
        let scalar = text.unicodeScalars.first.map { scalar in
            let digits = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        } ?? ""
        return "'\(text)' (\(scalar))"
    }

    private mutating func unexpected(_ expectation: String) -> TOMLError {
        TOMLError("\(expectation), found \(found())", at: position(at: index))
    }

    // MARK: Keys

    package static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// A simple or dotted key; whitespace around the dots is allowed, and skipped after the key.
    private mutating func parseKey(context: String) throws(TOMLError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            let start = index
            let name: String
            switch peek() {
            case UInt8(ascii: "\""):
                if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") {
                    throw TOMLError("a key cannot be a multi-line string", at: position(at: start))
                }
                name = try parseBasicString()
            case UInt8(ascii: "'"):
                if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") {
                    throw TOMLError("a key cannot be a multi-line string", at: position(at: start))
                }
                name = try parseLiteralString()
            default:
                while Self.isBareKeyByte(peek()) { index += 1 }
                guard index > start else {
                    let after = parts.isEmpty ? "" : " after '.'"
                    throw unexpected("expected a key in \(context)\(after) (bare keys are letters, digits, '_' and '-'; quote others)")
                }
                name = String(decoding: bytes[start..<index], as: UTF8.self)
            }
            parts.append(TOMLKeyPart(name: name, position: position(at: start)))
            // Each part is a table level: inside an inline table they add to its nesting.
            if depth + parts.count > Self.maximumDepth {
                throw TOMLError("\(context) has more than \(Self.maximumDepth - depth) dotted parts: tables are nested at most \(Self.maximumDepth) levels deep",
                                at: position(at: start))
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ".") else { return parts }
            index += 1
            skipWhitespace()
        }
    }

    /// `key = value`, defined in `table`. Returns the key's parts.
    @discardableResult
    private mutating func parseKeyValue(into table: MutableTable, scopePath: [String]) throws(TOMLError) -> [TOMLKeyPart] {
        let parts = try parseKey(context: "a key/value pair")
        guard peek() == UInt8(ascii: "=") else {
            throw unexpected("expected '=' after the key '\(TOMLDefinitions.display(parts.map(\.name)))'")
        }
        index += 1
        skipWhitespace()
        let value = try parseValue()
        try TOMLDefinitions.defineValue(parts, value, in: table, scopePath: scopePath)
        return parts
    }

    // MARK: Values

    private mutating func parseValue() throws(TOMLError) -> TOMLValue {
        let start = index
        switch peek() {
        case UInt8(ascii: "\""):
            let multiline = peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"")
            let text = multiline ? try parseMultilineBasicString() : try parseBasicString()
            return TOMLValue(.string(text), at: position(at: start))
        case UInt8(ascii: "'"):
            let multiline = peek(1) == UInt8(ascii: "'") && peek(2) == UInt8(ascii: "'")
            let text = multiline ? try parseMultilineLiteralString() : try parseLiteralString()
            return TOMLValue(.string(text), at: position(at: start))
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "{"):
            return try parseInlineTable()
        default:
            return try parseBareValue()
        }
    }

    private static func isBareValueByte(_ byte: UInt8) -> Bool {
        isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Booleans, numbers and date-times: a run of letters, digits and `+-._:`, plus the space
    /// that may separate a date from its time.
    private mutating func parseBareValue() throws(TOMLError) -> TOMLValue {
        let start = index
        while Self.isBareValueByte(peek()) { index += 1 }
        if index - start == 10, peek() == 0x20, Self.isDigit(peek(1)), Self.isDigit(peek(2)), peek(3) == UInt8(ascii: ":"),
           bytes[start + 4] == UInt8(ascii: "-") {
            index += 1
            while Self.isBareValueByte(peek()) { index += 1 }
        }
        let position = position(at: start)
        guard index > start else {
            throw unexpected("expected a value (a string, number, boolean, date-time, array or inline table)")
        }
        let token = bytes[start..<index]
        return TOMLValue(try TOMLScalars.parse(token, at: position), at: position)
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLValue {
        let start = position(at: index)
        try enterNesting()
        index += 1
        var elements: [TOMLValue] = []
        while true {
            skipBlankSpace()
            if peek() == UInt8(ascii: "]") { break }
            if atEnd { throw TOMLError("this array is never closed: expected ']' before the end of the file", at: start) }
            elements.append(try parseValue())
            skipBlankSpace()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if peek() == UInt8(ascii: "]") { break }
            if atEnd { throw TOMLError("this array is never closed: expected ']' before the end of the file", at: start) }
            throw unexpected("expected ',' or ']' after an element of the array that starts at \(start)")
        }
        index += 1
        depth -= 1
        return TOMLValue(.array(elements), at: start)
    }

    /// `{ a = 1, b.c = 2 }`: on one line, no trailing comma (TOML 1.0).
    private mutating func parseInlineTable() throws(TOMLError) -> TOMLValue {
        let start = position(at: index)
        try enterNesting()
        index += 1
        // The inline table is its own little document: keys inside it may be dotted.
        let table = MutableTable(origin: .document, position: start)
        skipWhitespace()
        if peek() != UInt8(ascii: "}") {
            while true {
                skipWhitespace()
                if atNewline || atEnd {
                    throw unexpected("an inline table must be written on one line: expected a key")
                }
                try parseKeyValue(into: table, scopePath: [])
                skipWhitespace()
                if peek() == UInt8(ascii: "}") { break }
                guard peek() == UInt8(ascii: ",") else {
                    if atNewline || atEnd {
                        throw unexpected("an inline table must be written on one line: expected ',' or '}'")
                    }
                    throw unexpected("expected ',' or '}' in the inline table that starts at \(start)")
                }
                let comma = index
                index += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    throw TOMLError("a trailing comma is not allowed in an inline table (TOML 1.0)", at: position(at: comma))
                }
            }
        }
        index += 1
        depth -= 1
        return TOMLValue(.table(table.frozen()), at: start)
    }

    private mutating func enterNesting() throws(TOMLError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw TOMLError("arrays and inline tables are nested more than \(Self.maximumDepth) levels deep", at: position(at: index))
        }
    }

    // MARK: Strings

    /// `"..."` with escapes, on one line.
    private mutating func parseBasicString() throws(TOMLError) -> String {
        let start = index
        index += 1
        var text: [UInt8] = []
        while true {
            let runStart = index
            while !atEnd, peek() != UInt8(ascii: "\""), peek() != UInt8(ascii: "\\"), !atNewline { index += 1 }
            text.append(contentsOf: bytes[runStart..<index])
            if peek() == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: text, as: UTF8.self)
            }
            if peek() == UInt8(ascii: "\\") {
                try appendEscape(to: &text)
                continue
            }
            throw TOMLError("this string is not closed on its line: a \"...\" string ends with '\"' on the same line "
                            + "(use \"\"\"...\"\"\" for text over several lines)", at: position(at: start))
        }
    }

    /// `"""..."""`: newlines allowed, the first one right after the opening quotes dropped, and a
    /// backslash at the end of a line removes the line break and the whitespace after it.
    private mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let start = index
        index += 3
        skipNewline()
        var text: [UInt8] = []
        while true {
            let runStart = index
            while !atEnd, peek() != UInt8(ascii: "\""), peek() != UInt8(ascii: "\\"), peek() != 0x0D { index += 1 }
            text.append(contentsOf: bytes[runStart..<index])
            switch peek() {
            case UInt8(ascii: "\""):
                if try closeMultiline(quote: UInt8(ascii: "\""), into: &text) { return String(decoding: text, as: UTF8.self) }
            case UInt8(ascii: "\\"):
                if try !skipLineEndingBackslash() { try appendEscape(to: &text) }
            case 0x0D:
                // CRLF becomes LF, as on every other line of the document.
                index += 1
            default:
                throw TOMLError("this multi-line string is never closed: expected '\"\"\"' before the end of the file",
                                at: position(at: start))
            }
        }
    }

    /// `'...'`: no escapes, on one line.
    private mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = index
        index += 1
        let contentStart = index
        while !atEnd, peek() != UInt8(ascii: "'"), !atNewline { index += 1 }
        guard peek() == UInt8(ascii: "'") else {
            throw TOMLError("this string is not closed on its line: a '...' string ends with \"'\" on the same line "
                            + "(use '''...''' for text over several lines)", at: position(at: start))
        }
        let text = String(decoding: bytes[contentStart..<index], as: UTF8.self)
        index += 1
        return text
    }

    /// `'''...'''`: no escapes, newlines allowed, the first one right after the opening quotes dropped.
    private mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let start = index
        index += 3
        skipNewline()
        var text: [UInt8] = []
        while true {
            let runStart = index
            while !atEnd, peek() != UInt8(ascii: "'"), peek() != 0x0D { index += 1 }
            text.append(contentsOf: bytes[runStart..<index])
            switch peek() {
            case UInt8(ascii: "'"):
                if try closeMultiline(quote: UInt8(ascii: "'"), into: &text) { return String(decoding: text, as: UTF8.self) }
            case 0x0D:
                index += 1
            default:
                throw TOMLError("this multi-line string is never closed: expected \"'''\" before the end of the file",
                                at: position(at: start))
            }
        }
    }

    /// At a run of quotes inside a multi-line string: fewer than three are text; three to five
    /// close the string, the first one or two of them being its last characters.
    private mutating func closeMultiline(quote: UInt8, into text: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek(run) == quote { run += 1 }
        if run > 5 {
            throw TOMLError("too many quotes: a multi-line string can end with at most two quotes before its closing three",
                            at: position(at: index + 5))
        }
        let closes = run >= 3
        let kept = closes ? run - 3 : run
        text.append(contentsOf: repeatElement(quote, count: kept))
        index += run
        return closes
    }

    /// At a backslash in a multi-line basic string: when only whitespace follows it on its line,
    /// skips the line break and all whitespace and line breaks after it.
    private mutating func skipLineEndingBackslash() throws(TOMLError) -> Bool {
        var ahead = 1
        while peek(ahead) == 0x20 || peek(ahead) == 0x09 { ahead += 1 }
        guard peek(ahead) == 0x0A || peek(ahead) == 0x0D else { return false }
        index += ahead
        while peek() == 0x20 || peek() == 0x09 || atNewline { index += 1 }
        return true
    }

    /// At a backslash: appends the escaped character's UTF-8 bytes.
    private mutating func appendEscape(to text: inout [UInt8]) throws(TOMLError) {
        let start = index
        let letter = peek(1)
        index += 2
        switch letter {
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "\""): text.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): text.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digits = letter == UInt8(ascii: "u") ? 4 : 8
            var value: UInt32 = 0
            for offset in 0..<digits {
                guard let digit = Self.hexValue(peek(offset)) else {
                    throw TOMLError("\\\(Character(Unicode.Scalar(letter))) must be followed by \(digits) hexadecimal digits",
                                    at: position(at: start))
                }
                value = value << 4 | UInt32(digit)
            }
            guard let scalar = Unicode.Scalar(value) else {
                let written = String(decoding: bytes[start..<index + digits], as: UTF8.self)
                throw TOMLError("\(written) is not a Unicode scalar value (surrogates D800-DFFF and values above 10FFFF are not)",
                                at: position(at: start))
            }
            index += digits
            text.append(contentsOf: String(Character(scalar)).utf8)
        case 0x20, 0x09, 0x0A, 0x0D:
            throw TOMLError("whitespace after a backslash is allowed only when the line ends there, in a \"\"\" string; "
                            + "write \\\\ for a backslash", at: position(at: start))
        default:
            let written = letter > 0x20 && letter < 0x7F ? "'\\\(Character(Unicode.Scalar(letter)))'" : "after the backslash"
            let hint = letter == UInt8(ascii: "e") ? " (TOML 1.0 has no \\e: write \\u001B)"
                : letter == UInt8(ascii: "x") ? " (TOML 1.0 has no \\x: write \\u00XX)" : ""
            throw TOMLError("invalid escape sequence \(written)\(hint); the escapes are \\b \\t \\n \\f \\r \\\" \\\\ "
                            + "\\uXXXX and \\UXXXXXXXX", at: position(at: start))
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
