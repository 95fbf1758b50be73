/// Parses the Makefile-syntax dependency files that `-MD -MF` makes clang and gcc write:
/// `target: dep dep \` continued over lines, with `\ ` for a space and `$$` for a dollar.
public enum Depfile {
    public static func dependencies(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var sawColon = false
        var characters = Array(text.unicodeScalars)
        characters.append("\n")
        var index = 0
        func endWord() {
            if !current.isEmpty { words.append(current); current = "" }
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "\\" where index + 1 < characters.count:
                let next = characters[index + 1]
                if next == "\n" { endWord(); index += 2; continue }
                if next == "\r", index + 2 < characters.count, characters[index + 2] == "\n" { endWord(); index += 3; continue }
                if next == " " || next == "#" { current.unicodeScalars.append(next); index += 2; continue }
                current.unicodeScalars.append(character)
            case "$" where index + 1 < characters.count && characters[index + 1] == "$":
                current.append("$"); index += 2; continue
            case " ", "\t", "\n", "\r":
                endWord()
            case ":" where !sawColon && (index + 1 >= characters.count || characters[index + 1] == " " || characters[index + 1] == "\n"):
                // The first `:` followed by a blank ends the target list; later words are prerequisites.
                sawColon = true
                current = ""
                words.removeAll()
            default:
                current.unicodeScalars.append(character)
            }
            index += 1
        }
        return sawColon ? words : []
    }
}
