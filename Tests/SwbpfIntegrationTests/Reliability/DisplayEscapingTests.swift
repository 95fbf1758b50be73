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

/// Names shown on a terminal never carry a control character to it.
@Suite struct DisplayEscapingTests {
    @Test func plainTextAndPrintableUnicodeAreKept() {
        for text in ["", ".output/kprobe.o", "my dir/a b.h", "Fußball.h", "日本語/ファイル.c", "emoji 🙂.c", "tab-less \\ backslash"] {
            #expect(text.escapedForDisplay() == text)
        }
        #expect("a\u{a0}b".escapedForDisplay() == "a\u{a0}b", "a no-break space is printable")
    }

    @Test func controlCharactersBecomeEscapes() {
        #expect("a\nb".escapedForDisplay() == "a\\nb")
        #expect("a\rb\tc".escapedForDisplay() == "a\\rb\\tc")
        #expect("\u{1b}[31mred\u{1b}[0m".escapedForDisplay() == "\\x1b[31mred\\x1b[0m")
        #expect("bell\u{07}".escapedForDisplay() == "bell\\x07")
        #expect("nul\u{0}".escapedForDisplay() == "nul\\x00")
        #expect("del\u{7f}".escapedForDisplay() == "del\\x7f")
        // C1 controls: CSI (U+009B) starts an escape sequence on many terminals, as ESC [ does.
        #expect("csi\u{9b}31m".escapedForDisplay() == "csi\\x9b31m")
        #expect("\u{80}\u{9f}".escapedForDisplay() == "\\x80\\x9f")
        // An OSC title change, ended by BEL.
        #expect("\u{1b}]0;owned\u{07}x.c".escapedForDisplay() == "\\x1b]0;owned\\x07x.c")
    }

    @Test func bidirectionalOverridesAreMadeVisible() {
        #expect("evil\u{202e}c.exe".escapedForDisplay() == "evil\\u{202E}c.exe")
        #expect("\u{2066}x\u{2069}\u{200f}".escapedForDisplay() == "\\u{2066}x\\u{2069}\\u{200F}")
    }

    @Test func multilineKeepsNewlinesAndTabsOnly() {
        #expect("error: x\nhelp:\tfix".escapedForDisplay(multiline: true) == "error: x\nhelp:\tfix")
        #expect("error: '\u{1b}[2J'\nhelp: y\r".escapedForDisplay(multiline: true) == "error: '\\x1b[2J'\nhelp: y\\r")
    }

    @Test func escapingIsOneToOneOnTheEscapedCharacters() {
        // Every control character gives a distinct escape that contains no control character.
        let controls = (UInt8(0)..<0x20).map(UnicodeScalar.init) + [UnicodeScalar(UInt8(0x7F))] + (UInt8(0x80)..<0xA0).map(UnicodeScalar.init)
        let escaped = controls.map { String(Character($0)).escapedForDisplay() }
        #expect(Set(escaped).count == controls.count)
        for text in escaped { #expect(text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "\(text)") }
    }

    /// Through the binary: `swbpf new` prints the names of what it created.
    @Test func createLinesEscapeTheDirectoryName() throws {
        let scratch = try TemporaryProject("escape")
        let directory = "x\u{1b}[31mred\u{07}"
        let result = try Swbpf.run(["new", directory, "--name", "app"], in: scratch.path)
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 }, "\(result.output.debugDescription)")
        #expect(result.stdout.contains("  CREATE   x\\x1b[31mred\\x07/app.bpf.c\n"), "\(result.stdout)")
        #expect(scratch.exists(directory + "/app.bpf.c"), "the directory itself keeps its real name")
    }

    /// Commands without a build reporter print their diagnostics themselves (a build's go through
    /// its reporter).
    @Test(arguments: ["clean", "explain", "compdb"])
    func errorsEscapeTheNamesTheyQuote(command: String) throws {
        let scratch = try TemporaryProject("escape-error")
        let result = try Swbpf.run([command, "-C", "missing\u{1b}]0;owned\u{07}"], in: scratch.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("missing\\x1b]0;owned\\x07"), "\(result.stderr.debugDescription)")
        #expect(!result.stderr.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
    }
}
