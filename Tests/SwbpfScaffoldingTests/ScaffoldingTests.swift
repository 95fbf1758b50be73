import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfScaffolding
import SwbpfTestSupport

@Suite struct ScaffoldingTests {
    @Test func namesMustBeCIdentifiers() throws {
        try Scaffolder.validate(name: "mytool")
        try Scaffolder.validate(name: "tcp_trace2")
        for bad in ["", "2fast", "my-tool", "a/b", "..", "int", "struct", "__x", "_Foo", "vmlinux", "main", "na me", "perf"] {
            #expect(throws: ScaffoldError.self, "\(bad) should be refused") { try Scaffolder.validate(name: bad) }
        }
    }

    @Test func everyTemplateRenamesEveryIdentifier() throws {
        #expect(Template.all.count >= 1)
        for template in Template.all {
            #expect(!template.description.isEmpty && !template.feature.isEmpty, "\(template.id) lacks metadata")
            let files = Scaffolder.projectFiles(template: template, name: "mytool")
            let paths = files.map(\.path)
            #expect(paths.contains("mytool.bpf.c") && paths.contains("mytool.c") && paths.contains("README.md"))
            #expect(paths.contains("swbpf.toml") && paths.contains(".gitignore"))
            for (path, contents) in files {
                #expect(!path.contains("@") && !contents.contains("@name@") && !contents.contains("@NAME@"), "\(template.id)/\(path)")
            }
            let user = try #require(files.first { $0.path == "mytool.c" }?.contents)
            #expect(user.contains("mytool.skel.h") && user.contains("mytool_bpf__"), "\(template.id) does not use its skeleton")
        }
    }
}

/// The templates' one BTF lookup for kernels without BTF: custom_btf.c and .h, written once per
/// project and called from every user part.
@Suite struct SharedHelperTests {
    @Test func everyTemplateCallsTheOneLookup() throws {
        let helperPaths = Template.helpers.map(\.path)
        #expect(helperPaths == ["custom_btf.c", "custom_btf.h"])
        #expect(!Template.all.contains { $0.id == Template.helpersDirectory })
        #expect(Template.all.count == 12)
        for template in Template.all {
            for language in SourceLanguage.allCases where template.has(language) {
                let files = Scaffolder.projectFiles(template: template, name: "tool", language: language)
                #expect(helperPaths.allSatisfy { path in files.contains { $0.path == path } }, "\(template.id) \(language)")
                let user = try #require(files.first { $0.path == "tool." + (language == .c ? "c" : "swift") }?.contents)
                #expect(user.contains("use_custom_btf(\"tool\", &") && user.contains("tool_bpf__open_opts(&"), "\(template.id) \(language)")
                #expect(!user.contains("__open_and_load") && !user.contains("find_custom_btf"), "\(template.id) \(language)")
                if language == .c { #expect(user.contains("#include \"custom_btf.h\""), "\(template.id)") }
            }
        }
    }

    @Test func addWritesAMissingHelperAndNeverReplacesOne() throws {
        let project = try TemporaryProject("add-helpers")
        let minimal = try Template.named("minimal")
        let first = try Scaffolder.addApp(directory: project.path, template: minimal, name: "one", force: false)
        #expect(first.written.contains("custom_btf.c") && first.written.contains("custom_btf.h") && first.keptHelpers.isEmpty)

        // The same bytes: not written again, nothing to say.
        let second = try Scaffolder.addApp(directory: project.path, template: minimal, name: "two", force: false)
        #expect(!second.written.contains("custom_btf.c") && second.keptHelpers.isEmpty)

        // The user's own version is kept, even with --force, and named.
        let mine = "/* my own lookup */\n" + (try project.read("custom_btf.c"))
        try project.write("custom_btf.c", mine)
        let forced = try Scaffolder.addApp(directory: project.path, template: minimal, name: "two", force: true)
        #expect(forced.written == ["two.bpf.c", "two.c"] && forced.keptHelpers == ["custom_btf.c"])
        #expect(try project.read("custom_btf.c") == mine)
    }

    @Test func anAppCannotTakeTheHelpersName() {
        #expect(throws: ScaffoldError.self) { try Scaffolder.validate(name: "custom_btf") }
    }
}
