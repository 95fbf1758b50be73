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
