// The tool behind the EmbedTemplates plugin: writes a Swift source that holds every file under
// the templates directory byte for byte, as raw string literals.
//
//     TemplateEmbedder TEMPLATES-DIR OUTPUT.swift [PLANNED-PATH...]
//
// PLANNED-PATH are the files SwiftPM knew when it planned the build (its inputs); a file that is
// not among them is embedded all the same, with a warning that SwiftPM will not see edits to it
// until it plans again.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct EmbedError: Error, CustomStringConvertible {
    var description: String
}

/// Writes a line to standard error (SwiftPM shows it with the build's output).
func report(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// The regular files under `directory`, as paths relative to it, hidden ones left out (as the
/// plugin leaves them out).
func files(in directory: String, under relative: String = "") throws -> [String] {
    var found: [String] = []
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
        throw EmbedError(description: "cannot list \(directory): \(error)")
    }
    for name in names.sorted() where !name.hasPrefix(".") {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory) else { continue }
        if isDirectory {
            found += try files(in: directory + "/" + name, under: relative + name + "/")
        } else {
            found.append(relative + name)
        }
    }
    return found
}

/// A Swift raw multi-line string literal whose value is exactly `text`. It uses enough `#` that no
/// `\#…` or `"""#…` in the text means anything, and escapes what a multi-line literal would not
/// keep as it is: carriage returns (the compiler reads CR LF as LF) and other control characters.
func multiLineLiteral(_ text: String) -> String {
    var hashes = "#"
    while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
    var body = ""
    for scalar in text.unicodeScalars {
        if scalar == "\n" || scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F) {
            body.unicodeScalars.append(scalar)
        } else {
            body += "\\" + hashes + "u{" + String(scalar.value, radix: 16) + "}"
        }
    }
    // The newline before the closing delimiter is not part of the value.
    return hashes + "\"\"\"\n" + body + "\n\"\"\"" + hashes
}

/// An ordinary one-line string literal whose value is exactly `text` (for names and paths).
func lineLiteral(_ text: String) -> String {
    var body = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": body += "\\\""
        case "\\": body += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: body += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: body.unicodeScalars.append(scalar)
        }
    }
    return "\"" + body + "\""
}

/// The Swift source: template id (the first path component) → its files.
func generate(root: String, paths: [String]) throws -> String {
    var templates: [String: [(path: String, contents: String)]] = [:]
    for relative in paths {
        guard let slash = relative.firstIndex(of: "/") else { continue }
        let location = root + "/" + relative
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: location)) } catch {
            throw EmbedError(description: "cannot read \(location): \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw EmbedError(description: "\(location): not UTF-8 text; template files must be UTF-8")
        }
        templates[String(relative[..<slash]), default: []].append((String(relative[relative.index(after: slash)...]), text))
    }
    var lines = [
        "// Generated at build time by the EmbedTemplates plugin from templates/: edit the files there.",
        "",
        "enum EmbeddedTemplates {",
        "    /// Template id → (path inside the template, contents), paths sorted.",
        "    static let files: [String: [(path: String, contents: String)]] = [",
    ]
    if templates.isEmpty { lines.append("        :") }
    for (id, files) in templates.sorted(by: { $0.key < $1.key }) {
        lines.append("        \(lineLiteral(id)): [")
        for file in files {
            lines.append("            (\(lineLiteral(file.path)), \(multiLineLiteral(file.contents))),")
        }
        lines.append("        ],")
    }
    lines += ["    ]", "}", ""]
    return lines.joined(separator: "\n")
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
    report("usage: TemplateEmbedder TEMPLATES-DIR OUTPUT.swift [PLANNED-PATH...]")
    exit(2)
}
let (root, output, planned) = (arguments[0], arguments[1], Set(arguments[2...]))
do {
    // Files directly in the templates directory belong to no template.
    let paths = try files(in: root).filter { $0.contains("/") }
    let unplanned = paths.filter { !planned.contains($0) }
    if !unplanned.isEmpty {
        report("warning: embedded \(unplanned.joined(separator: ", ")) from \(root), new since SwiftPM planned this build; edits to them are seen after its next plan: touch Package.swift to have one now")
    }
    let source = Data(try generate(root: root, paths: paths).utf8)
    // An unchanged output keeps its modification time, so SwiftPM does not recompile the target
    // (a directory's time changes when an editor creates a swap file in it).
    if (try? Data(contentsOf: URL(fileURLWithPath: output))) != source {
        do { try source.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw EmbedError(description: "cannot write \(output): \(error)")
        }
    }
} catch {
    report("error: \(error)")
    exit(1)
}
