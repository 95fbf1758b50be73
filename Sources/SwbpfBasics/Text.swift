/// Small text helpers, so the tool needs no more of Foundation than FoundationEssentials: a smaller
/// binary starts faster, and start-up is part of every no-op build.
extension StringProtocol {
    /// Without leading and trailing characters from `set` (blanks by default).
    public func trimmed(_ set: Set<Character> = [" ", "\t", "\n", "\r"]) -> String {
        guard let first = firstIndex(where: { !set.contains($0) }), let last = lastIndex(where: { !set.contains($0) }) else {
            return ""
        }
        return String(self[first...last])
    }

    /// The text with every control character made visible, for showing names (paths, app names,
    /// anything from the disk or the command line) on a terminal: a newline, an ESC or a BEL in a
    /// file name must not move the cursor, change colours or ring the bell. `\n`, `\r` and `\t`
    /// become those two-character escapes, other C0 controls, DEL and C1 controls `\xHH`, and the
    /// bidirectional formatting characters (which reorder what a terminal shows) `\u{HHHH}`. All
    /// other text, printable Unicode included, is kept as it is. With `multiline`, newlines and
    /// tabs pass through (a multi-line message, a tool's diagnostics); a carriage return, which
    /// could hide the start of a line, is still escaped.
    public func escapedForDisplay(multiline: Bool = false) -> String {
        // Most text is plain ASCII with nothing to escape: one pass over the bytes says so.
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || multiline && ($0 == 0x0A || $0 == 0x09) }) { return String(self) }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x0A: out += multiline ? "\n" : "\\n"
            case 0x09: out += multiline ? "\t" : "\\t"
            case 0x0D: out += "\\r"
            case 0x00..<0x20, 0x7F..<0xA0:
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Padded with spaces on the right to `width` characters (never cut).
    public func padded(to width: Int) -> String {
        count >= width ? String(self) : String(self) + String(repeating: " ", count: width - count)
    }

    /// Padded with spaces on the left to `width` characters (never cut).
    public func leftPadded(to width: Int) -> String {
        count >= width ? String(self) : String(repeating: " ", count: width - count) + String(self)
    }
}

/// Decimal formatting without String(format:).
package enum Decimal {
    /// `value` rounded to `places` decimals: 1.25 with 1 place gives "1.3" (half away from zero).
    package static func string(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if places > 0 {
            let fraction = String(Int(scaled - Double(whole) * scale))
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return text
    }
}
