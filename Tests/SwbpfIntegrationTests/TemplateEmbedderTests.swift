import Foundation
import Testing
import SwbpfTestSupport

/// The tool behind the EmbedTemplates plugin keeps every template file byte for byte, whatever it
/// holds: the Swift it writes is compiled here and the values it gives are compared with the files.
@Suite struct TemplateEmbedderTests {
    /// The tool as SwiftPM built it for the plugin (or as the package's own product), beside swbpf.
    static var tool: String? {
        let directory = URL(fileURLWithPath: Swbpf.path).deletingLastPathComponent().path
        return ["TemplateEmbedder-tool", "TemplateEmbedder"].map { directory + "/" + $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Contents that a careless literal would change: line endings, delimiters and escapes of raw
    /// strings, control characters, no final newline, nothing at all.
    static let files: [String: [UInt8]] = [
        "x/crlf.c": Array("a\r\nb\rc\n".utf8),
        "x/delimiters.md": Array("\"\"\"# and \\# and \"\"\"## \\##(x) \\(y) \\n \"#\n".utf8),
        "x/control.h": Array("\tTab\u{1}\u{7F}\u{1B}[0m é ☃ \u{2028}\n".utf8),
        "x/sub/no-newline": Array("no newline".utf8),
        "x/empty": [],
        "x/blank-lines": Array("\n\n".utf8),
        "y/template.toml": Array("description = \"y\"\n".utf8),
    ]

    @Test func keepsEveryFileByteForByte() throws {
        let tool = try #require(Self.tool, "TemplateEmbedder is not built beside \(Swbpf.path)")
        let scratch = try TemporaryProject("embedder")
        for (path, bytes) in Self.files { try scratch.writeBytes("templates/" + path, bytes) }
        // Neither a file outside a template directory nor a hidden file is a template file.
        try scratch.writeBytes("templates/README.md", Array("about\n".utf8))
        try scratch.writeBytes("templates/x/.crlf.c.swp", [0])

        // As the plugin runs it, with the files SwiftPM planned for; y/template.toml came later.
        let planned = Self.files.keys.filter { $0 != "y/template.toml" }.sorted()
        let generate = try runProcess(tool, [scratch.path + "/templates", scratch.path + "/Embedded.swift"] + planned)
        #expect(generate.status == 0, "\(generate.output)")
        #expect(generate.stderr == "warning: embedded y/template.toml from \(scratch.path)/templates, new since SwiftPM planned this build; edits to them are seen after its next plan: touch Package.swift to have one now\n")
        try scratch.writeBytes("main.swift", Array("""
            for (id, files) in EmbeddedTemplates.files.sorted(by: { $0.key < $1.key }) {
                for file in files { print(id + "/" + file.path, Array(file.contents.utf8)) }
            }

            """.utf8))
        let compile = try runProcess("/usr/bin/env", ["swiftc", "-o", "check", "Embedded.swift", "main.swift"], in: scratch.path)
        try #require(compile.status == 0, "the generated Swift does not compile: \(compile.output)")
        let run = try runProcess(scratch.path + "/check", [])
        let expected = Self.files.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        #expect(run.stdout == expected)
    }

    @Test func refusesAFileThatIsNotUTF8() throws {
        let tool = try #require(Self.tool, "TemplateEmbedder is not built beside \(Swbpf.path)")
        let scratch = try TemporaryProject("embedder-binary")
        try scratch.writeBytes("templates/x/logo.png", [0x89, 0x50, 0x4E, 0x47, 0xFF, 0x0A])
        let generate = try runProcess(tool, [scratch.path + "/templates", scratch.path + "/Embedded.swift", "x/logo.png"])
        #expect(generate.status == 1)
        #expect(generate.stderr == "error: \(scratch.path)/templates/x/logo.png: not UTF-8 text; template files must be UTF-8\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/Embedded.swift"))
    }
}

extension TemporaryProject {
    /// Writes `bytes` at `relative`, creating its directories.
    func writeBytes(_ relative: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
}
