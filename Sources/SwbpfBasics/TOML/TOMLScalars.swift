/// Booleans, integers, floats and date-times from the bytes of one unquoted value.
package enum TOMLScalars {
    package static func parse(_ token: ArraySlice<UInt8>, at position: TOMLPosition) throws(TOMLError) -> TOMLValue.Kind {
        if token.elementsEqual("true".utf8) { return .boolean(true) }
        if token.elementsEqual("false".utf8) { return .boolean(false) }
        let bytes = Array(token)
        if looksLikeDateTime(bytes) {
            var reader = DateTimeReader(bytes: bytes, position: position)
            return try reader.read()
        }
        return try number(bytes, at: position)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `HH:` starts a time; digits then `-` (not an exponent's sign) start a date.
    private static func looksLikeDateTime(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, isDigit(first) else { return false }
        if bytes.contains(UInt8(ascii: ":")) { return true }
        guard let dash = bytes.firstIndex(of: UInt8(ascii: "-")) else { return false }
        return bytes[..<dash].allSatisfy(isDigit)
    }

    // MARK: Numbers

    private static func number(_ bytes: [UInt8], at position: TOMLPosition) throws(TOMLError) -> TOMLValue.Kind {
        var text: String { String(decoding: bytes, as: UTF8.self) }
        func invalid(_ reason: String) -> TOMLError {
            TOMLError("invalid number '\(text)': \(reason)", at: position)
        }
        var index = 0
        var negative = false
        let hasSign = bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-")
        if hasSign {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        let unsigned = bytes[index...]
        if unsigned.elementsEqual("inf".utf8) { return .float(negative ? -.infinity : .infinity) }
        if unsigned.elementsEqual("nan".utf8) { return .float(.nan) }
        guard let first = unsigned.first, isDigit(first) else {
            throw notANumber(unsigned, text: text, hasSign: hasSign, at: position, invalid: invalid)
        }

        if first == UInt8(ascii: "0"), unsigned.count > 1 {
            let prefix = unsigned[unsigned.startIndex + 1]
            let radix: UInt64? = switch prefix {
            case UInt8(ascii: "x"): 16
            case UInt8(ascii: "o"): 8
            case UInt8(ascii: "b"): 2
            default: nil
            }
            if let radix {
                if hasSign { throw invalid("hexadecimal, octal and binary integers cannot have a sign") }
                return .integer(try radixInteger(unsigned.dropFirst(2), radix: radix, invalid: invalid))
            }
            if prefix == UInt8(ascii: "X") || prefix == UInt8(ascii: "O") || prefix == UInt8(ascii: "B") {
                throw invalid("the prefixes are 0x, 0o and 0b, in lower case")
            }
        }

        // Decimal: integer part, optional fraction, optional exponent.
        var cursor = index
        let integerDigits = try digitRun(bytes, from: &cursor, part: "the integer part", invalid: invalid)
        if integerDigits.count > 1, integerDigits.first == UInt8(ascii: "0") {
            throw invalid("leading zeros are not allowed")
        }
        var isFloat = false
        var normalized: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        normalized += integerDigits
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ".") {
            cursor += 1
            isFloat = true
            guard cursor < bytes.count, isDigit(bytes[cursor]) else { throw invalid("a float needs a digit after its '.'") }
            normalized.append(UInt8(ascii: "."))
            normalized += try digitRun(bytes, from: &cursor, part: "the fraction", invalid: invalid)
        }
        if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "e") || bytes[cursor] == UInt8(ascii: "E") {
            cursor += 1
            isFloat = true
            normalized.append(UInt8(ascii: "e"))
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "+") || bytes[cursor] == UInt8(ascii: "-") {
                normalized.append(bytes[cursor])
                cursor += 1
            }
            guard cursor < bytes.count, isDigit(bytes[cursor]) else { throw invalid("an exponent needs digits") }
            normalized += try digitRun(bytes, from: &cursor, part: "the exponent", invalid: invalid)
        }
        if cursor < bytes.count {
            let rest = String(decoding: bytes[cursor...], as: UTF8.self)
            throw invalid("unexpected '\(rest)' after \(isFloat ? "the float" : "the digits")")
        }
        if isFloat {
            guard let value = Double(String(decoding: normalized, as: UTF8.self)), value.isFinite else {
                throw invalid("it is out of the range of a 64-bit float")
            }
            return .float(value)
        }
        var magnitude: UInt64 = 0
        for digit in integerDigits {
            let (times, overflowed) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflowed || carried { throw invalid("it does not fit in a 64-bit signed integer") }
            magnitude = sum
        }
        return .integer(try signedInteger(magnitude, negative: negative, invalid: invalid))
    }

    /// Why a value that does not start with a digit (after its sign) is not one.
    private static func notANumber(_ unsigned: ArraySlice<UInt8>, text: String, hasSign: Bool, at position: TOMLPosition,
                                   invalid: (String) -> TOMLError) -> TOMLError {
        let lowered = String(decoding: unsigned, as: UTF8.self).lowercased()
        switch unsigned.first {
        case UInt8(ascii: "."): return invalid("a float needs a digit before its '.'")
        case UInt8(ascii: "_"): return invalid("an underscore must stand between two digits")
        case .some(let byte) where (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"):
            if hasSign || lowered == "inf" || lowered == "nan" || (lowered.count >= 2 && ("inf".hasPrefix(lowered) || "nan".hasPrefix(lowered))) {
                return invalid("the special floats are inf and nan, in lower case, optionally signed")
            }
            return TOMLError("'\(text)' is not a value: a string needs quotes (\"\(text)\"), and the booleans are true and false, "
                             + "in lower case", at: position)
        default: return invalid("expected a digit\(hasSign ? " after the sign" : "")")
        }
    }

    private static func signedInteger(_ magnitude: UInt64, negative: Bool, invalid: (String) -> TOMLError) throws(TOMLError) -> Int64 {
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw invalid("it does not fit in a 64-bit signed integer") }
            return Int64(bitPattern: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw invalid("it does not fit in a 64-bit signed integer") }
        return Int64(magnitude)
    }

    /// Digits with single underscores between them; returns the digits alone.
    private static func digitRun(_ bytes: [UInt8], from cursor: inout Int, part: String,
                                 invalid: (String) -> TOMLError) throws(TOMLError) -> [UInt8] {
        var digits: [UInt8] = []
        var previousWasDigit = false
        while cursor < bytes.count {
            let byte = bytes[cursor]
            if isDigit(byte) {
                digits.append(byte)
                previousWasDigit = true
            } else if byte == UInt8(ascii: "_") {
                guard previousWasDigit, cursor + 1 < bytes.count, isDigit(bytes[cursor + 1]) else {
                    throw invalid("an underscore must stand between two digits")
                }
                previousWasDigit = false
            } else {
                break
            }
            cursor += 1
        }
        if digits.isEmpty { throw invalid("\(part) has no digits") }
        return digits
    }

    private static func radixInteger(_ digits: ArraySlice<UInt8>, radix: UInt64, invalid: (String) -> TOMLError) throws(TOMLError) -> Int64 {
        let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
        guard !digits.isEmpty else { throw invalid("no \(name) digits after the prefix") }
        var magnitude: UInt64 = 0
        var previousWasDigit = false
        for (offset, byte) in zip(digits.indices, digits) {
            if byte == UInt8(ascii: "_") {
                guard previousWasDigit, offset + 1 < digits.endIndex, digits[offset + 1] != UInt8(ascii: "_") else {
                    throw invalid("an underscore must stand between two digits")
                }
                previousWasDigit = false
                continue
            }
            let value: UInt64? = switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(byte - UInt8(ascii: "A") + 10)
            default: nil
            }
            guard let value, value < radix else {
                throw invalid("'\(Character(Unicode.Scalar(byte)))' is not \(name == "octal" ? "an" : "a") \(name) digit")
            }
            let (times, overflowed) = magnitude.multipliedReportingOverflow(by: radix)
            if overflowed || times > UInt64(Int64.max) - value { throw invalid("it does not fit in a 64-bit signed integer") }
            magnitude = times + value
            previousWasDigit = true
        }
        return Int64(magnitude)
    }
}

/// RFC 3339 as TOML restricts it: `YYYY-MM-DD`, `HH:MM:SS[.fraction]`, both joined by `T`, `t`
/// or a space, with an optional `Z`, `z` or `±HH:MM` offset.
private struct DateTimeReader {
    let bytes: [UInt8]
    let position: TOMLPosition
    var index = 0

    init(bytes: [UInt8], position: TOMLPosition) {
        self.bytes = bytes
        self.position = position
    }

    func invalid(_ reason: String) -> TOMLError {
        TOMLError("invalid date-time '\(String(decoding: bytes, as: UTF8.self))': \(reason)", at: position)
    }

    mutating func read() throws(TOMLError) -> TOMLValue.Kind {
        // A time alone has no '-' (dates and negative offsets do).
        if !bytes.contains(UInt8(ascii: "-")) {
            let time = try readTime()
            try expectEnd()
            return .localTime(time)
        }
        let date = try readDate()
        if index == bytes.count { return .localDate(date) }
        guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[index]) else {
            throw invalid("expected 'T' or a space between the date and the time")
        }
        index += 1
        let time = try readTime()
        if index == bytes.count { return .localDateTime(TOMLLocalDateTime(date: date, time: time)) }
        let offset: Int
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
            offset = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            let hours = try field(2, "offset hours", 0...23)
            try expect(UInt8(ascii: ":"), "':' in the offset (±HH:MM)")
            let minutes = try field(2, "offset minutes", 0...59)
            offset = sign * (hours * 60 + minutes)
        default:
            throw invalid("expected 'Z' or an offset like +01:00 after the time")
        }
        try expectEnd()
        return .offsetDateTime(TOMLOffsetDateTime(date: date, time: time, offsetMinutes: offset))
    }

    private mutating func readDate() throws(TOMLError) -> TOMLLocalDate {
        let year = try field(4, "year", 0...9999)
        try expect(UInt8(ascii: "-"), "'-' after the year (YYYY-MM-DD)")
        let month = try field(2, "month", 1...12)
        try expect(UInt8(ascii: "-"), "'-' after the month (YYYY-MM-DD)")
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, isLeap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let day = try field(2, month == 2 ? "day (February \(year) has \(lengths[1]) days)" : "day", 1...lengths[month - 1])
        return TOMLLocalDate(year: year, month: month, day: day)
    }

    private mutating func readTime() throws(TOMLError) -> TOMLLocalTime {
        let hour = try field(2, "hour", 0...23)
        try expect(UInt8(ascii: ":"), "':' after the hour (HH:MM:SS)")
        let minute = try field(2, "minute", 0...59)
        try expect(UInt8(ascii: ":"), "':' after the minute: TOML 1.0 times have seconds (HH:MM:SS)")
        let second = try field(2, "second", 0...60)
        var nanosecond = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, let digit = Self.digit(bytes[index]) {
                // Digits past nanoseconds are dropped, as TOML allows.
                if digits < 9 { nanosecond = nanosecond * 10 + digit }
                digits += 1
                index += 1
            }
            if digits == 0 { throw invalid("expected digits after the '.' of the seconds") }
            for _ in min(digits, 9)..<9 { nanosecond *= 10 }
        }
        return TOMLLocalTime(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// Exactly `width` digits, within `range`.
    private mutating func field(_ width: Int, _ name: String, _ range: ClosedRange<Int>) throws(TOMLError) -> Int {
        var value = 0
        for _ in 0..<width {
            guard index < bytes.count, let digit = Self.digit(bytes[index]) else {
                throw invalid("the \(name) must have \(width) digits")
            }
            value = value * 10 + digit
            index += 1
        }
        guard range.contains(value) else {
            throw invalid("the \(name) must be \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        return value
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(TOMLError) {
        guard index < bytes.count, bytes[index] == byte else { throw invalid("expected \(what)") }
        index += 1
    }

    private func expectEnd() throws(TOMLError) {
        if index < bytes.count {
            throw invalid("unexpected '\(String(decoding: bytes[index...], as: UTF8.self))' after the end of the value")
        }
    }
}
