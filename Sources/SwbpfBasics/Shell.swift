import FoundationEssentials

/// POSIX shell quoting for the commands swbpf prints. A printed command, pasted into `sh` in the
/// project directory, must reproduce the step exactly, so every word is quoted when it needs to be.
public enum Shell {
    /// Quotes one word for `sh`. Words made only of characters with no meaning to the shell are left
    /// bare, so ordinary commands stay readable; anything else is single-quoted.
    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        if word.utf8.allSatisfy(isSafe) { return word }
        if word.unicodeScalars.contains(where: isControl) { return printfQuote(word) }
        return "'" + word.replacing("'", with: #"'\''"#) + "'"
    }

    /// A word with control characters, as `"$(printf 'a\033b')"`: pasted into any POSIX shell it
    /// gives the same bytes, and printed it puts no escape sequence on the terminal. (Command
    /// substitution drops trailing newlines, so a word that ends in newlines keeps them raw.)
    package static func printfQuote(_ word: String) -> String {
        var body = Substring(word)
        var trailingNewlines = ""
        while body.last == "\n" { body = body.dropLast(); trailingNewlines += "\n" }
        var format = ""
        for scalar in body.unicodeScalars {
            switch scalar {
            case "'": format += #"'\''"#
            case "%": format += "%%"
            case "\\": format += "\\\\"
            default:
                if isControl(scalar) {
                    for byte in String(scalar).utf8 { format += "\\" + String(repeating: "0", count: 3 - String(byte, radix: 8).count) + String(byte, radix: 8) }
                } else {
                    format.unicodeScalars.append(scalar)
                }
            }
        }
        return "\"$(printf '" + format + "')\"" + (trailingNewlines.isEmpty ? "" : "'" + trailingNewlines + "'")
    }

    /// C0 controls, DEL and C1 controls: what a terminal may act on instead of showing.
    package static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Joins words into one command line, each quoted as needed.
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "_-+=.,/:@%".utf8.contains(byte)
        }
    }

    /// Splits a knob such as `CC="ccache cc"` or `CFLAGS="-O2 -g"` into words the way make hands them
    /// to the shell for the common case: on runs of blanks. Quotes inside knobs are not interpreted.
    public static func splitWords(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
    }
}

