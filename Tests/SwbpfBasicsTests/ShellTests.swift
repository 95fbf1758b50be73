import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport

@Suite struct ShellTests {
    @Test func quoting() {
        #expect(Shell.quote("-I.output") == "-I.output")
        #expect(Shell.quote("a b") == "'a b'")
        #expect(Shell.quote("it's") == #"'it'\''s'"#)
        #expect(Shell.quote("") == "''")
        #expect(Shell.quote("$HOME") == "'$HOME'")
        #expect(Shell.join(["cc", "-DX=\"y z\""]) == #"cc '-DX="y z"'"#)
        #expect(Shell.splitWords(" ccache  cc ") == ["ccache", "cc"])
    }
}
