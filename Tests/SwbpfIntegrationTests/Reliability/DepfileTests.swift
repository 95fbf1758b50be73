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

/// The depfile parser, case by case (the cases ninja's depfile parser is tested on, and what -MP,
/// gcc's and clang's quoting produce), then against depfiles the real compilers write.
@Suite struct DepfileTests {
    private func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Depfile? {
        do {
            return try Depfile(parsing: text)
        } catch {
            Issue.record("\(text.debugDescription) did not parse: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    private func rule(_ targets: [String], _ prerequisites: [String]) -> Depfile.Rule {
        Depfile.Rule(targets: targets, prerequisites: prerequisites)
    }

    @Test func oneRule() {
        let depfile = parse("build/ninja.o: ninja.cc ninja.h eval_env.h manifest_parser.h\n")
        #expect(depfile?.rules == [rule(["build/ninja.o"], ["ninja.cc", "ninja.h", "eval_env.h", "manifest_parser.h"])])
        #expect(depfile?.dependencies() == ["ninja.cc", "ninja.h", "eval_env.h", "manifest_parser.h"])
    }

    @Test func continuationsEscapesAndDollars() {
        let text = ".output/.x.o.swbpf-tmp: x.c /usr/include/stdio.h \\\n  my\\ dir/a.h cost$$.h \\\n /usr/include/b.h\n"
        #expect(Depfile.dependencies(in: text) == ["x.c", "/usr/include/stdio.h", "my dir/a.h", "cost$.h", "/usr/include/b.h"])
    }

    @Test func continuationsWithCRLFAndBeforeTheFirstTarget() {
        #expect(parse("foo.o: \\\r\n  bar.h baz.h\r\n")?.rules == [rule(["foo.o"], ["bar.h", "baz.h"])])
        #expect(parse(" \\\n  out: in\n")?.rules == [rule(["out"], ["in"])])
        #expect(parse("a.o: a.c\r\nb.o: b.c\r\n")?.rules == [rule(["a.o"], ["a.c"]), rule(["b.o"], ["b.c"])])
        // A continuation glues words apart, never together.
        #expect(parse("t: a\\\nb\n")?.rules == [rule(["t"], ["a", "b"])])
    }

    /// What `-MP` adds: a phony rule per header, so that deleting a header does not break make.
    @Test func phonyRulesAreNeverDependencies() {
        let text = "x.o: x.c /usr/include/stdc-predef.h a.h\n\n/usr/include/stdc-predef.h:\n\na.h:\n"
        let depfile = parse(text)
        #expect(depfile?.rules.count == 3)
        #expect(depfile?.rules.filter(\.isPhony).flatMap(\.targets) == ["/usr/include/stdc-predef.h", "a.h"])
        #expect(Depfile.dependencies(in: text) == ["x.c", "/usr/include/stdc-predef.h", "a.h"])
        // A phony rule whose header is not a prerequisite of anything still gives nothing.
        #expect(Depfile.dependencies(in: "x.o: x.c\nstale.h:\n") == ["x.c"])
    }

    @Test func rulesForOneTargetAreMergedWithoutDuplicates() {
        #expect(Depfile.dependencies(in: "foo: x y\nfoo: z x\nfoo:\n") == ["x", "y", "z"])
        #expect(Depfile.dependencies(in: "foo foo: x y z x") == ["x", "y", "z"])
    }

    @Test func theRulesOfOneTarget() {
        let depfile = parse("a.o b.o: shared.h\na.o: a.c\nother.o: other.c other.h\n")
        #expect(depfile?.rules.first?.targets == ["a.o", "b.o"])
        #expect(depfile?.dependencies(of: "a.o") == ["shared.h", "a.c"])
        #expect(depfile?.dependencies(of: "b.o") == ["shared.h"])
        #expect(depfile?.dependencies(of: "other.o") == ["other.c", "other.h"])
        // No target, or one no rule names: every rule's prerequisites.
        #expect(depfile?.dependencies() == ["shared.h", "a.c", "other.c", "other.h"])
        #expect(depfile?.dependencies(of: "missing.o") == ["shared.h", "a.c", "other.c", "other.h"])
    }

    @Test func escapedSpacesInTargetsAndPrerequisites() {
        #expect(parse("a\\ bc\\ def:   a\\ b c d")?.rules == [rule(["a bc def"], ["a b", "c", "d"])])
        #expect(parse("t:\ta\\\tb\tc\n")?.rules == [rule(["t"], ["a\tb", "c"])])
    }

    /// GNU make's rule for backslashes before a blank: 2N+1 of them are N and a space in the name,
    /// 2N are N at the end of the name.
    @Test func runsOfBackslashesBeforeABlank() {
        #expect(parse("t: a\\\\\\ b c\\\\ d e\\\\\\\\ f\n")?.rules == [rule(["t"], ["a\\ b", "c\\", "d", "e\\\\", "f"])])
    }

    @Test func hashesComments() {
        #expect(parse("t: hash\\#.h two\\\\#.h\n")?.rules == [rule(["t"], ["hash#.h", "two\\#.h"])])
        #expect(parse("# a comment\nt: a # the rest is a comment b\nu: c\n")?.rules == [rule(["t"], ["a"]), rule(["u"], ["c"])])
        #expect(parse("t: a # a comment \\\n continued\n")?.rules == [rule(["t"], ["a"])])
    }

    @Test func dollars() {
        #expect(parse("t: cost$$.h $$$$x a$b\n")?.rules == [rule(["t"], ["cost$.h", "$$x", "a$b"])])
    }

    @Test func otherBackslashesAreKeptAsTheyAre() {
        let text = "Project\\Dir\\Build\\Release8\\Foo\\Foo.res : \\\n  Dir\\Library\\Foo.rc \\\n  Dir\\Library\\Version\\Bar.h \\\n  Project\\Thing\\Bar.tlb \\\n"
        #expect(parse(text)?.rules == [rule(["Project\\Dir\\Build\\Release8\\Foo\\Foo.res"],
                                            ["Dir\\Library\\Foo.rc", "Dir\\Library\\Version\\Bar.h", "Project\\Thing\\Bar.tlb"])])
        // A phony rule with escapes of every kind in its target.
        #expect(parse("\\!\\@\\#$$\\%\\^\\&\\\\:")?.rules == [rule(["\\!\\@#$\\%\\^\\&\\\\"], [])])
        #expect(parse("t: trailing\\")?.rules == [rule(["t"], ["trailing\\"])])
    }

    @Test func colonsInsideNames() {
        #expect(parse("t: dir/a:b.h c:\n")?.rules == [rule(["t"], ["dir/a:b.h", "c:"])])
        // gcc writes the phony rule of `col:on.h` as `col:on.h:`.
        #expect(parse("t: col:on.h\ncol:on.h:\n")?.rules == [rule(["t"], ["col:on.h"]), rule(["col:on.h"], [])])
        #expect(parse("t:\\\n a\n")?.rules == [rule(["t"], ["a"])])
    }

    @Test func unusualCharactersAndUTF8() {
        let text = "C:/Program\\ Files\\ (x86)/Microsoft\\ crtdefs.h: \n en@quot.header~ t+t-x!=1 \n openldap/cn={0}core.ldif\n Fußball.h"
        // The prerequisites on the following lines are not continued: each such line is an error.
        #expect(throws: Depfile.SyntaxError.self) { try Depfile(parsing: text) }
        let continued = text.replacingOccurrences(of: " \n", with: " \\\n").replacingOccurrences(of: "ldif\n", with: "ldif \\\n")
        #expect(parse(continued)?.rules == [rule(["C:/Program Files (x86)/Microsoft crtdefs.h"],
                                                 ["en@quot.header~", "t+t-x!=1", "openldap/cn={0}core.ldif", "Fußball.h"])])
    }

    @Test func blankAndEmpty() {
        #expect(parse("")?.rules == [])
        #expect(parse("\n\n  \t\n\r\n")?.rules == [])
        #expect(parse("\n\nt: a\n\n\nu: b\n\n")?.rules == [rule(["t"], ["a"]), rule(["u"], ["b"])])
        #expect(Depfile.dependencies(in: "") == [])
    }

    @Test func syntaxErrorsSayWhere() {
        #expect(throws: Depfile.SyntaxError(line: 1, message: "expected ':' after 'no colon here'")) {
            try Depfile(parsing: "no colon here")
        }
        #expect(throws: Depfile.SyntaxError(line: 3, message: "expected ':' after 'b.o b.c'")) {
            try Depfile(parsing: "a.o: a.c \\\n a.h\nb.o b.c\n")
        }
        #expect(throws: Depfile.SyntaxError(line: 2, message: "a rule with no target before ':'")) {
            try Depfile(parsing: "a.o: a.c\n: b.c\n")
        }
    }

    /// A depfile that does not parse must not make the step look independent of its headers.
    @Test func aMalformedDepfileDependsOnEveryNameInIt() {
        #expect(Depfile.dependencies(in: "x.o x.c my\\ h.h\n") == ["x.o", "x.c", "my h.h"])
        #expect(Depfile.dependencies(in: "x.o: x.c\nbroken a.h\n") == ["x.o", "x.c", "broken", "a.h"])
    }

    // MARK: What the real compilers write

    /// Header names with every character a depfile must quote, included by a source whose own
    /// name has a space; the parser must give back exactly the files the compiler read.
    static let awkwardHeaders = ["my dir/a b.h", "hash#.h", "dollar$.h", "col:on.h", "tail\\.h", "two\\ spaced.h"]

    static func compileWithDepfile(_ compiler: String, headers: [String]) throws -> (depfile: String, project: TemporaryProject) {
        let project = try TemporaryProject("depfile")
        var source = ""
        for header in headers {
            try project.write(header, "/* \(header) */\n")
            source += "#include \"\(header)\"\n"
        }
        try project.write("x y.c", source + "int main(void) { return 0; }\n")
        let result = try runProcess(compiler, ["-MD", "-MP", "-MF", "out.d", "-c", "x y.c", "-o", "o u t.o"], in: project.path)
        try #require(result.status == 0, "\(compiler) failed: \(result.output)")
        return (try project.read("out.d"), project)
    }

    @Test(arguments: ["/usr/bin/cc", "/usr/bin/clang"])
    func depfilesOfTheRealCompilers(compiler: String) throws {
        // clang turns a backslash into a slash in what it writes, so it gets no backslash names.
        let headers = compiler.hasSuffix("clang") ? Self.awkwardHeaders.filter { !$0.contains("\\") } : Self.awkwardHeaders
        let (text, project) = try Self.compileWithDepfile(compiler, headers: headers)
        let depfile = try Depfile(parsing: text)
        #expect(depfile.rules.first?.targets == ["o u t.o"], "\(text)")
        let read = depfile.dependencies(of: "o u t.o").filter { !$0.hasPrefix("/") }
        #expect(read == ["x y.c"] + headers, "\(text)")
        for name in read { #expect(project.exists(name), "\(name) parsed from \(text.debugDescription) does not exist") }
        // -MP: one phony rule per header, none of which adds anything.
        #expect(depfile.rules.filter(\.isPhony).count >= headers.count)
        #expect(Depfile.dependencies(in: text) == depfile.dependencies(of: "o u t.o"))
    }
}

/// Through the binary: with `-MP` in CFLAGS, cc writes a phony rule per header, and a build after
/// a build must still run nothing, while a header edit still reaches the one object that reads it.
@Suite struct PhonyDepfileRuleBuildTests {
    @Test func buildWithMPRunsNothingTheSecondTime() throws {
        let project = try ThreeApps.make("mp")
        let environment = ["CFLAGS": "-g -Wall -MP"]
        let cold = try project.build(["-j", "2"], environment: environment)
        try #require(cold.status == 0, "cold build failed: \(cold)")
        #expect(Set(cold.steps) == StepID.everything(ThreeApps.apps), "cold build ran \(describe(cold.steps))")

        let again = try project.build(["--explain"], environment: environment)
        #expect(again.status == 0 && again.isNoOp, "the second build ran steps: \(again)")

        try project.write("inner.h", ThreeApps.innerHeader(tag: 7))
        let edited = try project.build(["--explain"], environment: environment)
        #expect(Set(edited.steps) == Set(StepID.userSide(of: "c")), "an inner.h edit ran \(describe(edited.steps)): \(edited)")
        #expect(edited.explained.first?.reason == "header inner.h changed", "\(edited)")
        #expect(try project.build(environment: environment).isNoOp)
    }
}
