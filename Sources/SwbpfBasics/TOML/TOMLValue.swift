/// A place in a TOML document: 1-based line, and 1-based column counted in Unicode scalars (a tab
/// counts as one), so editors and error messages agree on it.
public struct TOMLPosition: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// One TOML value and where it starts in the document.
public struct TOMLValue: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case offsetDateTime(TOMLOffsetDateTime)
        case localDateTime(TOMLLocalDateTime)
        case localDate(TOMLLocalDate)
        case localTime(TOMLLocalTime)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public let kind: Kind
    public let position: TOMLPosition

    public init(_ kind: Kind, at position: TOMLPosition) {
        self.kind = kind
        self.position = position
    }

    public var string: String? { if case .string(let text) = kind { text } else { nil } }
    public var integer: Int64? { if case .integer(let number) = kind { number } else { nil } }
    public var float: Double? { if case .float(let number) = kind { number } else { nil } }
    public var boolean: Bool? { if case .boolean(let flag) = kind { flag } else { nil } }
    public var array: [TOMLValue]? { if case .array(let elements) = kind { elements } else { nil } }
    public var table: TOMLTable? { if case .table(let table) = kind { table } else { nil } }
}

/// A table: its keys in the order the document gives them, each with where the key was written.
public struct TOMLTable: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public let key: String
        /// Where the key was written. For a table named by headers, the header that defines it.
        public let keyPosition: TOMLPosition
        public let value: TOMLValue

        package init(key: String, keyPosition: TOMLPosition, value: TOMLValue) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    /// Where the table was defined: its `[header]`, its `{`, the first dotted key that made it, or
    /// 1:1 for the document itself.
    public let position: TOMLPosition
    public let entries: [Entry]
    private let indexByKey: [String: Int]

    /// `indexByKey` maps each key to its offset in `entries`.
    package init(position: TOMLPosition, entries: [Entry], indexByKey: [String: Int]) {
        self.position = position
        self.entries = entries
        self.indexByKey = indexByKey
    }

    /// Parses a whole TOML 1.0 document.
    public init(parsing bytes: [UInt8]) throws(TOMLError) {
        var parser = try TOMLParser(bytes)
        self = try parser.parseDocument()
    }

    public init(parsing text: String) throws(TOMLError) {
        try self.init(parsing: Array(text.utf8))
    }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }

    public func entry(_ key: String) -> Entry? { indexByKey[key].map { entries[$0] } }

    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    public func contains(key: String) -> Bool { indexByKey[key] != nil }

    public static func == (a: TOMLTable, b: TOMLTable) -> Bool { a.position == b.position && a.entries == b.entries }
}

/// A calendar date without a time zone (`1979-05-27`).
public struct TOMLLocalDate: Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public var description: String { "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))" }

    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }
}

/// A time of day without a date or time zone (`07:32:00.999`). Fractions finer than nanoseconds are
/// truncated, as TOML allows.
public struct TOMLLocalTime: Hashable, Sendable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int
    /// 0...60: RFC 3339 allows a leap second.
    public let second: Int
    public let nanosecond: Int

    /// RFC 3339 form; the fraction is printed without trailing zeros, and only when non-zero.
    public var description: String {
        var text = "\(padded(hour, 2)):\(padded(minute, 2)):\(padded(second, 2))"
        if nanosecond > 0 {
            var digits = padded(nanosecond, 9)
            while digits.last == "0" { digits.removeLast() }
            text += "." + digits
        }
        return text
    }

    package init(hour: Int, minute: Int, second: Int, nanosecond: Int) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.nanosecond = nanosecond
    }
}

/// A date and time without a time zone (`1979-05-27T07:32:00`).
public struct TOMLLocalDateTime: Hashable, Sendable, CustomStringConvertible {
    public let date: TOMLLocalDate
    public let time: TOMLLocalTime

    public var description: String { "\(date)T\(time)" }

    package init(date: TOMLLocalDate, time: TOMLLocalTime) {
        self.date = date
        self.time = time
    }
}

/// A date and time at a fixed offset from UTC (`1979-05-27T07:32:00-07:00`).
public struct TOMLOffsetDateTime: Hashable, Sendable, CustomStringConvertible {
    public let date: TOMLLocalDate
    public let time: TOMLLocalTime
    /// Minutes east of UTC; `Z` is 0.
    public let offsetMinutes: Int

    public var description: String {
        if offsetMinutes == 0 { return "\(date)T\(time)Z" }
        let magnitude = abs(offsetMinutes)
        return "\(date)T\(time)\(offsetMinutes < 0 ? "-" : "+")\(padded(magnitude / 60, 2)):\(padded(magnitude % 60, 2))"
    }

    package init(date: TOMLLocalDate, time: TOMLLocalTime, offsetMinutes: Int) {
        self.date = date
        self.time = time
        self.offsetMinutes = offsetMinutes
    }
}

private func padded(_ number: Int, _ width: Int) -> String {
    let digits = String(number)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}
