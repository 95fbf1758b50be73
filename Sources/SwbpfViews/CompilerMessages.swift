import SwbpfBasics

/// One message a compiler printed (`file:line:col: error: message [-Wflag]`), as clang and gcc
/// print them, with the notes that follow it and the `#include` chain that leads to its file.
/// `--format json` gives these beside the raw text, so that editors and CI need no parser of
/// their own.
package struct CompilerMessage: Encodable, Equatable {
    package struct Inclusion: Encodable, Equatable {
        package var file: String
        package var line: Int
    }

    /// error, warning, note or remark (`fatal error` is an error).
    package var severity: String
    package var message: String
    package var file: String?
    package var line: Int?
    package var column: Int?
    /// The warning option that controls it (`-Wunused-variable`), when the compiler names one.
    package var option: String?
    /// The includes that lead to `file`, innermost first (`In file included from a.c:3:`).
    package var includedFrom: [Inclusion]?
    /// The `note:` messages that follow it.
    package var notes: [CompilerMessage]?

    package static let severities: [(word: String, severity: String)] = [
        ("fatal error", "error"), ("error", "error"), ("warning", "warning"), ("note", "note"), ("remark", "remark"),
    ]

    /// Every message in a tool's output. Lines that are not messages (source excerpts, carets,
    /// `1 error generated.`, gcc's `In function 'f':`) belong to the raw text only.
    package static func parse(_ text: String) -> [CompilerMessage] {
        var messages: [CompilerMessage] = []
        var inclusions: [Inclusion] = []
        // clang prints the chain outermost first, one `In file included from` a line; gcc
        // innermost first, the rest as `from` lines.
        var innermostFirst = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let inclusion = inclusion(in: line) {
                if !line.hasPrefix("In file included from ") { innermostFirst = true }
                inclusions.append(inclusion)
                continue
            }
            guard var message = message(in: line) else { continue }
            if !inclusions.isEmpty { message.includedFrom = innermostFirst ? inclusions : inclusions.reversed() }
            (inclusions, innermostFirst) = ([], false)
            if message.severity == "note", !messages.isEmpty {
                messages[messages.count - 1].notes = (messages[messages.count - 1].notes ?? []) + [message]
            } else {
                messages.append(message)
            }
        }
        return messages
    }

    /// `In file included from a.c:3:` (clang, one per line; gcc ends all but the last with `,`)
    /// and gcc's continuation, `                 from b.h:2:`.
    static func inclusion(in line: Substring) -> Inclusion? {
        let trimmed = line.trimmed([" ", "\t"])
        let rest: Substring
        if trimmed.hasPrefix("In file included from ") {
            rest = trimmed.dropFirst("In file included from ".count)
        } else if line.first == " ", trimmed.hasPrefix("from ") {
            rest = trimmed.dropFirst("from ".count)
        } else {
            return nil
        }
        let location = rest.hasSuffix(":") || rest.hasSuffix(",") ? rest.dropLast() : rest
        guard let colon = location.lastIndex(of: ":"), let number = Int(location[location.index(after: colon)...]) else { return nil }
        // gcc may add a column (`a.c:3:10`): the file is what comes before the line number.
        let before = location[..<colon]
        if let inner = before.lastIndex(of: ":"), let line = Int(before[before.index(after: inner)...]) {
            return Inclusion(file: String(before[..<inner]), line: line)
        }
        return Inclusion(file: String(before), line: number)
    }

    /// `file:line:col: severity: text [-Wflag]`, `file:line: severity: text`, or a tool's own
    /// `clang: error: text` (no location).
    static func message(in line: Substring) -> CompilerMessage? {
        var found: (range: Range<Substring.Index>, severity: String)?
        for (word, severity) in severities {
            guard let range = line.firstRange(of: ": \(word): ") else { continue }
            if found == nil || range.lowerBound < found!.range.lowerBound { found = (range, severity) }
        }
        guard let (range, severity) = found else { return nil }
        var text = String(line[range.upperBound...])
        var option: String?
        if text.hasSuffix("]"), let open = text.lastIndex(of: "["), text[text.index(after: open)...].hasPrefix("-W") {
            option = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            text = text[..<open].trimmed([" "])
        }
        var message = CompilerMessage(severity: severity, message: text, option: option)
        let fields = line[..<range.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
        let numbers = fields.reversed().prefix(2).prefix { Int($0) != nil }.compactMap { Int($0) }
        // A tool's own message (`clang: error: ...`) has no line number, so no file.
        guard !numbers.isEmpty, fields.count > numbers.count else { return message }
        message.file = fields.dropLast(numbers.count).joined(separator: ":")
        message.line = numbers.count == 2 ? numbers[1] : numbers[0]
        message.column = numbers.count == 2 ? numbers[0] : nil
        return message
    }
}
