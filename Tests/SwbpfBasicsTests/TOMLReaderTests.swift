import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport

private func parse(_ bytes: [UInt8]) throws(TOMLError) -> TOMLTable { try TOMLTable(parsing: bytes) }

private func parse(_ text: String) throws(TOMLError) -> TOMLTable { try TOMLTable(parsing: text) }

/// The error a document gives, or nil when it parses.
private func error(_ bytes: [UInt8]) -> TOMLError? {
    do { _ = try parse(bytes); return nil } catch { return error }
}

private func error(_ text: String) -> TOMLError? { error(Array(text.utf8)) }

@Suite struct TOMLReaderTests {
    @Test func everyKeyAndValueKnowsWhereItIs() throws {
        let document = try parse("""
            # comment
            name = "é"  # the column counts characters, not bytes
            [app.tiny]
            cflags = [
              "-O2",
                "-g",
            ]
            dotted.key = true
            inline = { x = 1, y.z = 2 }
            """)
        let name = try #require(document.entry("name"))
        #expect(name.keyPosition == TOMLPosition(line: 2, column: 1) && name.value.position == TOMLPosition(line: 2, column: 8))

        let app = try #require(document["app"]?.table)
        let tiny = try #require(app.entry("tiny"))
        #expect(tiny.keyPosition == TOMLPosition(line: 3, column: 6), "the key inside the header")
        let table = try #require(tiny.value.table)
        #expect(table.position == TOMLPosition(line: 3, column: 1), "a header table starts at its '['")

        let cflags = try #require(table.entry("cflags"))
        #expect(cflags.keyPosition.line == 4 && cflags.value.position == TOMLPosition(line: 4, column: 10))
        #expect(cflags.value.array?.map(\.position) == [TOMLPosition(line: 5, column: 3), TOMLPosition(line: 6, column: 5)])

        let dotted = try #require(table["dotted"]?.table)
        #expect(dotted.position == TOMLPosition(line: 8, column: 1) && dotted.entry("key")?.keyPosition == TOMLPosition(line: 8, column: 8))

        let inline = try #require(table.entry("inline"))
        #expect(inline.value.position == TOMLPosition(line: 9, column: 10))
        #expect(inline.value.table?.entry("y")?.value.table?.entry("z")?.keyPosition == TOMLPosition(line: 9, column: 21))
        #expect(document.keys == ["name", "app"], "keys keep the document's order")
    }

    @Test func crlfAndAByteOrderMarkDoNotShiftPositions() throws {
        let document = try parse([0xEF, 0xBB, 0xBF] + Array("a = 1\r\nb = \"\"\"x\r\ny\"\"\"\r\n  c = 3\r\n".utf8))
        #expect(document.entry("a")?.keyPosition == TOMLPosition(line: 1, column: 1), "the byte order mark is not a column")
        #expect(document["b"]?.string == "x\ny", "CRLF in a multi-line string reads as LF")
        #expect(document.entry("c")?.keyPosition == TOMLPosition(line: 4, column: 3))
    }

    /// Columns are counted on from the previous position, so a long line stays linear (counting
    /// from the line start each time took seconds here).
    @Test func positionsOnAVeryLongLine() throws {
        let count = 5_000
        let line = "a = [" + (0..<count).map { "\"é\($0)\"" }.joined(separator: ", ") + "]"
        let elements = try #require(try parse(line + "\nb = 1\n")["a"]?.array)
        let lastColumn = line.unicodeScalars.count - "\"é\(count - 1)\"]".unicodeScalars.count + 1
        #expect(elements.count == count && elements.last?.position == TOMLPosition(line: 1, column: lastColumn))
        let found = try #require(error(line + " x\n"))
        #expect(found.position == TOMLPosition(line: 1, column: line.unicodeScalars.count + 2), "\(found)")
    }

    @Test func valuesAreTyped() throws {
        let document = try parse(#"""
            int = -9_223_372_036_854_775_808
            hex = 0x7FFF_FFFF_FFFF_FFFF
            oct = 0o755
            bin = 0b1010
            float = 6.626e-34
            inf = -inf
            nan = nan
            escapes = "\u00E9\U0001F600\t\"\\"
            literal = 'C:\path'
            folded = """
              one \
              two"""
            offset = 1979-05-27 07:32:00.999999999999-07:30
            local = 1979-05-27T07:32:00
            date = 2024-02-29
            time = 23:59:60.5
            """#)
        #expect(document["int"]?.integer == .min && document["hex"]?.integer == .max)
        #expect(document["oct"]?.integer == 0o755 && document["bin"]?.integer == 10)
        #expect(document["float"]?.float == 6.626e-34 && document["inf"]?.float == -.infinity && document["nan"]?.float?.isNaN == true)
        #expect(document["escapes"]?.string == "é😀\t\"\\" && document["literal"]?.string == #"C:\path"#)
        #expect(document["folded"]?.string == "  one two", "a line-ending backslash eats the break and the next line's indentation")
        guard case .offsetDateTime(let offset) = document["offset"]?.kind else { Issue.record("not an offset date-time"); return }
        #expect(offset.offsetMinutes == -450 && offset.time.nanosecond == 999_999_999, "digits past nanoseconds are dropped")
        #expect(offset.description == "1979-05-27T07:32:00.999999999-07:30")
        #expect(document["local"]?.kind == .localDateTime(TOMLLocalDateTime(date: TOMLLocalDate(year: 1979, month: 5, day: 27),
                                                                               time: TOMLLocalTime(hour: 7, minute: 32, second: 0, nanosecond: 0))))
        #expect(document["date"]?.kind == .localDate(TOMLLocalDate(year: 2024, month: 2, day: 29)))
        #expect(document["time"]?.kind == .localTime(TOMLLocalTime(hour: 23, minute: 59, second: 60, nanosecond: 500_000_000)))
    }

    /// Each bad document fails at the line and column of the problem, with a message that names it.
    @Test(arguments: [
        ("a = 1\nb = \"x\u{0}\"\n", 2, 7, "NUL byte"),
        ("a = 1\rb = 2\n", 1, 6, "carriage return"),
        ("s = \"tab\tok, unit separator \u{1F} not\"\n", 1, 29, "U+001F"),
        ("k = \"é\" x\n", 1, 9, "found 'x'"),
        ("output = \"build\nbin = \"bin\"\n", 1, 10, "not closed on its line"),
        ("cflags = [\"-O2\"\nbin = \"bin\"\n", 2, 1, "starts at 1:10"),
        ("cflags = [\n", 1, 10, "never closed"),
        ("a = 1\nb = 2\na = 3\n", 3, 1, "key 'a' is defined twice (first at line 1)"),
        ("[t]\n[u]\n[t]\n", 3, 2, "table [t] is defined twice (first at line 1)"),
        ("[a]\nb.c = 1\n[a.b]\n", 3, 4, "dotted keys"),
        ("a = { b = 1 }\na.c = 2\n", 2, 1, "inline table 'a'"),
        ("a = [1]\n[[a]]\n", 2, 3, "cannot be extended with [[a]]"),
        ("n = 9223372036854775808\n", 1, 5, "does not fit in a 64-bit signed integer"),
        ("n = -9223372036854775809\n", 1, 5, "does not fit in a 64-bit signed integer"),
        ("n = 0x8000000000000000\n", 1, 5, "does not fit in a 64-bit signed integer"),
        ("n = 1e400\n", 1, 5, "out of the range"),
        ("n = 012\n", 1, 5, "leading zeros"),
        ("s = \"\\uD800\"\n", 1, 6, "not a Unicode scalar value"),
        ("s = \"\\e\"\n", 1, 6, "no \\e"),
        ("d = 2023-02-29\n", 1, 5, "February 2023 has 28 days"),
        ("t = 07:32\n", 1, 5, "have seconds"),
        ("x = { a = 1, }\n", 1, 12, "trailing comma"),
        ("colour = red\n", 1, 10, "needs quotes (\"red\")"),
    ] as [(String, Int, Int, String)])
    func errorsSayWhereAndWhat(_ input: String, _ line: Int, _ column: Int, _ fragment: String) throws {
        let found = try #require(error(input), "accepted: \(input.debugDescription)")
        #expect(found.position == TOMLPosition(line: line, column: column) && found.message.contains(fragment),
                "\(input.debugDescription) gave \(found)")
    }

    @Test func invalidUTF8IsAnErrorWithItsPosition() throws {
        let found = try #require(error(Array("a = 1\n# caf".utf8) + [0xE9] + Array("\n".utf8)))
        #expect(found.position == TOMLPosition(line: 2, column: 6) && found.message.contains("invalid UTF-8 (byte 0xE9)"), "\(found)")
        // Overlong forms and encoded surrogates are not UTF-8 either.
        #expect(error([0x61, 0x3D, 0x27, 0xC0, 0xAF, 0x27])?.position == TOMLPosition(line: 1, column: 4))
        #expect(error([0x61, 0x3D, 0x27, 0xED, 0xA0, 0x80, 0x27])?.position == TOMLPosition(line: 1, column: 4))
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let found = try #require(error("a = " + String(repeating: "[", count: 100_000)))
        #expect(found.message.contains("nested more than") && found.position.line == 1, "\(found)")
    }
}
