import Foundation
import Testing
import SwbpfTestSupport

/// The README's commands are run, so that no claim in it goes stale. Every `sh` block carries a
/// marker comment on the line before it, saying how it is checked:
///
///     <!-- test: run -->                 run; must succeed
///     <!-- test: run, fails -->          run; must fail (a deliberate bug)
///     <!-- test: run until "TEXT" -->    run until stdout shows TEXT, then Ctrl-C; must succeed
///     <!-- test: ci -->                  must be .ci/run's test command, word for word
///     <!-- test: not run: REASON -->     cannot run here (a download, a 7-minute release build)
///
/// The `run` blocks run in order in one scratch directory, as a reader types them: each starts in
/// the directory the one before it left, with the swbpf under test first on PATH.
@Suite struct ReadmeTests {
    enum Check: Equatable {
        case run, fails, until(String), ci, notRun(String)
    }

    struct Block {
        var check: Check
        var code: String
        var line: Int
    }

    static let readme = repositoryRoot + "/README.md"

    static func blocks(_ text: String) throws -> [Block] {
        let lines = text.components(separatedBy: "\n")
        var blocks: [Block] = []
        var index = 0
        while index < lines.count {
            defer { index += 1 }
            guard lines[index] == "```sh" else { continue }
            let marker = index > 0 ? lines[index - 1] : ""
            let check = try parseMarker(marker, line: index + 1)
            var code: [String] = []
            index += 1
            while index < lines.count && lines[index] != "```" { code.append(lines[index]); index += 1 }
            blocks.append(Block(check: check, code: code.joined(separator: "\n"), line: index - code.count))
        }
        return blocks
    }

    struct UnmarkedBlock: Error, CustomStringConvertible {
        var line: Int, marker: String
        var description: String { "README.md:\(line): an sh block without a known '<!-- test: ... -->' marker before it (found: \(marker))" }
    }

    static func parseMarker(_ marker: String, line: Int) throws -> Check {
        guard marker.hasPrefix("<!-- test: "), marker.hasSuffix(" -->") else { throw UnmarkedBlock(line: line, marker: marker) }
        let body = String(marker.dropFirst("<!-- test: ".count).dropLast(" -->".count))
        switch body {
        case "run": return .run
        case "run, fails": return .fails
        case "ci": return .ci
        default:
            if body.hasPrefix("not run: "), body.count > "not run: ".count + 10 { return .notRun(String(body.dropFirst("not run: ".count))) }
            if body.hasPrefix("run until \""), body.hasSuffix("\""), body.count > "run until \"\"".count {
                return .until(String(body.dropFirst("run until \"".count).dropLast()))
            }
            throw UnmarkedBlock(line: line, marker: marker)
        }
    }

    /// Every sh block is marked; the test command is CI's; the README stays a README; every link
    /// between the documents names a file that exists.
    @Test func everyCommandIsCheckedAndTheTestCommandIsCIs() throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        #expect(text.utf8.count <= 15_000, "README.md is \(text.utf8.count) bytes: the details belong in docs/")
        let blocks = try Self.blocks(text)
        #expect(blocks.contains { $0.check == .run }, "no README block is run")

        let ci = try String(contentsOfFile: repositoryRoot + "/.ci/run", encoding: .utf8)
        let ciCommand = ci.split(separator: "\n").last { !$0.hasPrefix("#") && !$0.isEmpty }.map(String.init)
        let testBlocks = blocks.filter { $0.check == .ci }
        #expect(testBlocks.count == 1 && testBlocks.first?.code == ciCommand,
                "the README's test command and .ci/run's last line differ: \(testBlocks.map(\.code)) vs \(ciCommand ?? "none")")

        let docs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/docs").filter { $0.hasSuffix(".md") }
        for document in ["README.md", "CONTRIBUTING.md"] + docs.map({ "docs/" + $0 }) {
            let path = repositoryRoot + "/" + document
            let base = URL(fileURLWithPath: path).deletingLastPathComponent()
            let body = try String(contentsOfFile: path, encoding: .utf8)
            // A relative link is `](path)` or `](path#anchor)`; URLs have a scheme (a colon).
            for link in body.matches(of: #/\]\((?<path>[^)#:\s]+)(#[^)]*)?\)/#) {
                let path = String(link.output.path)
                let target = base.appendingPathComponent(path).path
                #expect(FileManager.default.fileExists(atPath: target), "\(document) links to \(path), which does not exist")
            }
        }
    }

    /// The install command: scripts/install is a script that parses, and the example build after it
    /// works with the swbpf under test (the release build itself takes 409 s on 2 cores: CI's run
    /// of the whole suite builds the same sources).
    @Test(.enabled(if: Kernel.isRoot, "the example's vmlinux.h comes from /sys/kernel/btf, which needs root to read here"))
    func theInstallCommandsExampleBuilds() async throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let install = try #require(try Self.blocks(text).first { $0.code.hasPrefix("scripts/install") })
        let parts = try #require(TemplateHarness.match(install.code, #"scripts/install && \(cd (\S+) && swbpf (.+)\)"#),
                                 "the install command changed shape: \(install.code)")
        let script = repositoryRoot + "/scripts/install"
        #expect(FileManager.default.isExecutableFile(atPath: script))
        let syntax = try runProcess("/bin/bash", ["-n", script])
        #expect(syntax.status == 0, "\(syntax.output)")

        let example = try TemporaryProject(copying: parts[1])
        let build = try await TemplateHarness.swbpf(parts[2].split(separator: " ").map(String.init), in: example.path)
        #expect(build.status == 0, "\(build.output)")
        #expect(example.isExecutable(URL(fileURLWithPath: parts[1]).lastPathComponent), "\(build.output)")
    }

    /// The quickstart, the deliberate bug, completions and doctor, as a reader runs them.
    @Test(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
    func theReadmesCommandsRunAsShown() async throws {
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let scratch = try TemporaryProject("readme")
        let cwdFile = scratch.path + "/.cwd"
        try scratch.path.write(toFile: cwdFile, atomically: true, encoding: .utf8)
        let path = URL(fileURLWithPath: Swbpf.path).deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for block in try Self.blocks(text) {
            let expectSuccess: Bool
            switch block.check {
            case .run, .until: expectSuccess = true
            case .fails: expectSuccess = false
            case .ci, .notRun: continue
            }
            let script = "cd \"$(cat \"$1\")\" && set -e\n\(block.code)\npwd > \"$1\""
            let child = try TemplateChild("/usr/bin/env", ["PATH=\(path)", "bash", "-c", script, "bash", cwdFile], in: scratch.path)
            if case .until(let text) = block.check {
                let shown = await child.waitForOutput(timeout: 300) { $0.contains(text) }
                #expect(shown, "README.md:\(block.line): never printed \(text)")
                // Ctrl-C reaches the whole foreground group; Process starts the child as the
                // leader of a group of its own.
                kill(-child.pid, SIGINT)
            }
            let result = await child.finish(timeout: 300)
            if expectSuccess {
                #expect(result.exitedWith0, "README.md:\(block.line): \(block.code)\n\(result)")
            } else {
                #expect(!result.signaled && result.status != 0, "README.md:\(block.line) should fail: \(block.code)\n\(result)")
            }
        }
    }
}
