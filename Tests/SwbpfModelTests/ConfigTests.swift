import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
import SwbpfTestSupport

@Suite struct ConfigTests {
    @Test func everyKeyIsRead() throws {
        let config = try ProjectConfig.parse("""
            output = "build"
            bin = "bin"
            arch = "arm64"
            vmlinux = "vmlinux/{arch}/vmlinux.h"
            include = ["include", "vmlinux/{arch}"]
            cflags = ["-O2"]
            bpf-cflags = ["-DDEBUG"]
            ldflags = ["-static-libgcc"]
            libs = ["pthread"]
            sources = ["trace_helpers.c"]
            apps = ["a"]
            skip = ["b"]
            compdb = true

            [libbpf]
            archive = "libbpf/libbpf.a"
            include = "libbpf/include"

            [app.a]
            sources = ["extra.c"]
            bpf-sources = ["more.bpf.c"]
            cflags = ["-DA"]
            bpf-cflags = ["-DBA"]
            ldflags = ["-Wl,-z,now"]
            libs = ["m"]
            """, file: "swbpf.toml")
        #expect(config.output == "build" && config.binaryDirectory == "bin" && config.arch == "arm64")
        #expect(config.includeDirectories == ["include", "vmlinux/{arch}"])
        #expect(config.sharedSources == ["trace_helpers.c"] && config.onlyApps == ["a"] && config.skipApps == ["b"])
        #expect(config.compileCommands && config.libbpfArchive == "libbpf/libbpf.a" && config.libbpfInclude == "libbpf/include")
        let app = try #require(config.apps["a"])
        #expect(app.sources == ["extra.c"] && app.bpfSources == ["more.bpf.c"] && app.libs == ["m"] && app.ldflags == ["-Wl,-z,now"])
        #expect(config.appLines["a"] == 19)
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        #expect(throws: ConfigError.unknownKey(file: "swbpf.toml", line: 3, key: "app.a.cflag",
                                                     known: ProjectConfig.appKeys)) {
            try ProjectConfig.parse("[app.a]\nsources = []\ncflag = [\"-O2\"]\n", file: "swbpf.toml")
        }
        #expect(throws: ConfigError.unknownKey(file: "swbpf.toml", line: 2, key: "ouput", known: ProjectConfig.topLevelKeys)) {
            try ProjectConfig.parse("# comment\nouput = \"x\"\n", file: "swbpf.toml")
        }
    }

    @Test func btfForListsKernelsAndRefusesAnEmptyName() throws {
        let config = try ProjectConfig.parse("[app.rb]\nbtf-for = [\"6.1\", \"btf/5.4.0-1009-aws.btf\"]\n", file: "swbpf.toml")
        #expect(config.apps["rb"]?.btfFor == ["6.1", "btf/5.4.0-1009-aws.btf"])
        #expect(throws: ConfigError.self) { try ProjectConfig.parse("[app.rb]\n\nbtf-for = [\" \"]\n", file: "swbpf.toml") }
        do {
            _ = try ProjectConfig.parse("[app.rb]\n\nbtf-for = [\"\"]\n", file: "swbpf.toml")
        } catch let error as ConfigError {
            #expect(error.diagnostic.rendered.contains("swbpf.toml:3"), "\(error.diagnostic.rendered)")
            #expect(error.diagnostic.rendered.contains("names no kernel"), "\(error.diagnostic.rendered)")
        }
    }

    @Test func wrongTypeSaysWhatIsExpected() {
        #expect(throws: ConfigError.wrongType(file: "swbpf.toml", line: 2, key: "cflags", expected: "a list of strings")) {
            try ProjectConfig.parse("output = \"o\"\ncflags = \"-O2\"\n", file: "swbpf.toml")
        }
        #expect(throws: ConfigError.wrongType(file: "swbpf.toml", line: 1, key: "compdb", expected: "true or false")) {
            try ProjectConfig.parse("compdb = 1\n", file: "swbpf.toml")
        }
        let error = ConfigError.wrongType(file: "swbpf.toml", line: 2, key: "cflags", expected: "a list of strings")
        #expect(error.description == "error: swbpf.toml:2: key 'cflags' must be a list of strings\nhelp: for example: cflags = [\"...\"]")
    }

    @Test func syntaxErrorHasAPosition() {
        do {
            _ = try ProjectConfig.parse("output = \"a\"\ncflags = [\n", file: "swbpf.toml")
            Issue.record("expected a syntax error")
        } catch let ConfigError.syntax(file, line, _, _) {
            #expect(file == "swbpf.toml" && line >= 2)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct IncludeScannerTests {
    @Test func findsQuotedIncludesOnly() {
        let source = "#include <stdio.h>\n#  include \"helpers.h\"\n// #include \"no.h\" is a comment line\n#include\t\"b.h\" // trailing\n"
        // A comment line starting with // is not a directive.
        #expect(IncludeScanner.quotedIncludes(in: Array(source.utf8)) == ["helpers.h", "b.h"])
    }
}

@Suite struct HelperAssignmentTests {
    /// A C app links the helpers it includes; a Swift app, which cannot #include, links every
    /// helper, and its module imports the headers its shared header does not reach already.
    @Test func swiftAppsLinkEveryHelperAndImportTheHeadersTheirSharedHeaderMisses() throws {
        let project = try TemporaryProject("helpers")
        for (file, text) in [("c_app.bpf.c", ""), ("c_app.c", "#include \"used.h\"\n"),
                             ("sw.bpf.c", ""), ("sw.swift", ""), ("sw.h", "#include \"shared.h\"\n"),
                             ("used.c", ""), ("used.h", ""), ("shared.c", ""), ("shared.h", ""), ("other.c", ""), ("other.h", "")] {
            try project.write(file, text)
        }
        let apps = try ProjectLoader.load(directory: project.path).apps
        let c = try #require(apps.first { $0.name == "c_app" }), swift = try #require(apps.first { $0.name == "sw" })
        #expect(c.helpers == ["used.c"] && c.importedHelperHeaders.isEmpty)
        #expect(swift.helpers == ["other.c", "shared.c", "used.c"])
        #expect(swift.importedHelperHeaders == ["other.h", "used.h"])
    }
}
