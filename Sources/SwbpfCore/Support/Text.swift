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
enum Decimal {
    /// `value` rounded to `places` decimals: 1.25 with 1 place gives "1.3" (half away from zero).
    static func string(_ value: Double, places: Int) -> String {
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
