import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver
import SwbpfTestSupport

@Suite struct ConfigHygieneTests {
    @Test func nulAndInvalidUTF8InSwbpfTomlNameLineAndColumn() throws {
        #expect(throws: ConfigError.syntax(file: "swbpf.toml", line: 2, column: 15,
                                                message: "a NUL byte (U+0000) is not allowed in TOML (is this a binary or UTF-16 file? TOML is UTF-8 text)")) {
            try ProjectConfig.parse(Array("output = \"build\"\ncflags = [\"-O2".utf8) + [0] + Array("\"]\n".utf8), file: "swbpf.toml")
        }
        #expect(throws: ConfigError.syntax(file: "swbpf.toml", line: 1, column: 13,
                                                message: "invalid UTF-8 (byte 0xFF): a TOML document must be UTF-8 text")) {
            try ProjectConfig.parse(Array("output = \"bu".utf8) + [0xFF] + Array("\"\n".utf8), file: "swbpf.toml")
        }
    }

    @Test func dottedAndInlineSettingsGetTheirOwnLines() {
        #expect(throws: ConfigError.unknownKey(file: "swbpf.toml", line: 3, key: "app.a.flagz", known: ProjectConfig.appKeys)) {
            try ProjectConfig.parse("output = \"o\"\napp.a.cflags = [\"-O2\"]\napp.a.flagz = []\n", file: "swbpf.toml")
        }
        #expect(throws: ConfigError.wrongType(file: "swbpf.toml", line: 4, key: "app.a.libs", expected: "a list of strings")) {
            try ProjectConfig.parse("app = { a = { libs = [\n  \"m\",\n\n  3,\n] } }\n", file: "swbpf.toml")
        }
    }

    func tinyProject(_ label: String) throws -> TemporaryProject {
        let project = try TemporaryProject(label)
        try project.write("tiny.bpf.c", "#include \"vmlinux.h\"\nchar LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
        try project.write("tiny.c", "int main(void) { return 0; }\n")
        return project
    }

    @Test func aFIFOSwbpfTomlIsAnErrorNotAHang() throws {
        let project = try tinyProject("config-fifo")
        let path = project.path + "/swbpf.toml"
        #expect(mkfifo(path, 0o644) == 0, "mkfifo: \(String(cString: strerror(errno)))")
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.output)")
        #expect(result.stderr == """
            error: '\(path)' is a FIFO (named pipe), not a regular file, so swbpf cannot read its settings from it
            help: make it a regular file (a symbolic link to one is fine), or remove it to use the defaults

            """, "stderr: \(result.stderr)")
    }

    @Test func aDirectoryOrDeviceSwbpfTomlIsAnErrorAndASymlinkToAFileIsFine() throws {
        let project = try tinyProject("config-kinds")
        let path = project.path + "/swbpf.toml"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(try project.swbpf("build").stderr.hasPrefix("error: '\(path)' is a directory, not a regular file"))
        try FileManager.default.removeItem(atPath: path)

        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        #expect(try project.swbpf("build").stderr.hasPrefix("error: '\(path)' is a character device, not a regular file"))
        try FileManager.default.removeItem(atPath: path)

        // Through a symbolic link the file is read, so its own errors show.
        try project.write("settings/real.toml", "# shared settings\ncolour = \"red\"\n")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "settings/real.toml")
        #expect(try project.swbpf("build").stderr.hasPrefix("error: swbpf.toml:2: unknown key 'colour'\n"))
    }

    @Test func anOversizeSwbpfTomlIsAnError() throws {
        let project = try tinyProject("config-oversize")
        let size = ProjectConfig.maximumFileSize + 1
        try project.write("swbpf.toml", String(repeating: "#", count: size - 1) + "\n")
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.output)")
        #expect(result.stderr == """
            error: '\(project.path)/swbpf.toml' is \(size) bytes, more than the 1 MiB a swbpf.toml may have
            help: a project's settings fit in a few lines: check that this is the right file

            """, "stderr: \(result.stderr)")
        // Exactly the limit is still read (and a file of comments is valid, so it goes on to fail later for another reason).
        try project.write("swbpf.toml", String(repeating: "#", count: size - 2) + "\n")
        #expect(try !project.swbpf("build", "-n").stderr.contains("more than the 1 MiB"))
    }

    @Test func aNulByteThroughTheBinaryNamesFileLineAndColumn() throws {
        let project = try tinyProject("config-nul")
        try Data(Array("output = \"build\"\nbin = \"b".utf8) + [0] + Array("in\"\nskip = []\n".utf8)).write(to: project.url("swbpf.toml"))
        let result = try project.swbpf("build")
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.output)")
        #expect(result.stderr == """
            error: swbpf.toml:2:9: a NUL byte (U+0000) is not allowed in TOML (is this a binary or UTF-16 file? TOML is UTF-8 text)
            help: fix the TOML syntax at that position

            """, "stderr: \(result.stderr)")
    }
}
