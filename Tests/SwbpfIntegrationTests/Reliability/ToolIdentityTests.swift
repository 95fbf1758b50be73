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

/// The shared cache tells tools apart by what runs, not by what they print: a wrapper script
/// that prints clang's version but adds a flag is another tool.
@Suite(.timeLimit(.minutes(10))) struct ToolIdentityTests {
    @Test func aWrapperCompilerIsNotServedThePlainCompilersOutputs() throws {
        let cached = try CacheLinkTests.CachedProject("plain-clang")
        let marker = "int wrapped_marker SEC(\".data\") = 7;\n"
        try cached.project.write("tiny.bpf.c", (try cached.project.read("tiny.bpf.c")) + "#ifdef WRAPPED\n" + marker + "#endif\n")
        try #require(try cached.build().status == 0)

        let clone = try TemporaryProject("wrapped-clang")
        try Reliability.writeApp(clone, "tiny")
        try clone.write("tiny.bpf.c", try cached.project.read("tiny.bpf.c"))
        let clang = try #require(FileSystem.resolved("/usr/bin/clang"))
        let wrapper = try Reliability.wrapper(clone, name: "clang", tool: "\(clang) -DWRAPPED")
        let built = try cached.build(clone, extra: ["CLANG": wrapper])
        #expect(built.status == 0, "\(built.output)")
        // The same version, another program: everything clang makes is made again, with the flag.
        #expect(Set(CacheIntegrationTests.ran(built.stdout)).isSuperset(of: [".output/tiny.tmp.bpf.o"]), "\(built.stdout)")
        let object = try #require(clone.data(".output/tiny.bpf.o"))
        #expect(object.range(of: Data("wrapped_marker".utf8)) != nil, "the object is plain clang's, restored from the cache")
    }

    /// Hashed once: the digest is kept with the tool answers, keyed by the file's stat data.
    @Test func theExecutableIsHashedOncePerVersion() throws {
        let project = try TemporaryProject("identity")
        let script = try Reliability.wrapper(project, name: "cc", tool: "cc")
        var facts = FileFacts(cached: ToolAnswers())
        let resolver = ToolchainResolver(project: Project(root: project.path, config: ProjectConfig(), configFile: nil, apps: [], helperSources: [],
                                                          localVmlinuxHeader: nil, notes: []), environment: [:])
        let tool = Tool(role: .cc, displayName: script, path: script, leadingArguments: [], version: "12", fingerprint: "")
        let first = resolver.identified(tool, facts: &facts)
        #expect(first.executable == "\(script) \(ContentHash.of(file: script)!)")
        #expect(facts.fresh.count == 1)
        var remembered = ToolAnswers()
        for answer in facts.fresh { remembered[answer.key] = ["remembered"] }
        var cached = FileFacts(cached: remembered)
        #expect(resolver.identified(tool, facts: &cached).executable == "\(script) remembered")
        try project.write("tools/cc", "#!/bin/sh\nexec cc -DOTHER \"$@\"\n")
        #expect(resolver.identified(tool, facts: &cached).executable != "\(script) remembered", "an edited wrapper is hashed again")
    }
}
