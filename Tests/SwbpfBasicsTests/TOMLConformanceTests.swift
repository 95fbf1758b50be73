import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport

/// toml-test (github.com/toml-lang/toml-test), read from `<repository>/../shared/toml-test`: CI
/// places shared/ beside its clone, as the worktrees have it.
enum TOMLTestSuite {
    static let directory = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent()
        .appendingPathComponent("shared/toml-test/tests").standardizedFileURL.path
    static let listFile = directory + "/files-toml-1.0.0"
    static let isPresent = FileManager.default.fileExists(atPath: listFile)
    static let absentReason: Comment = "toml-test is not at \(directory) (it belongs in shared/toml-test beside the repository)"

    /// The cases of TOML 1.0.0 under `valid/` or `invalid/`, as paths relative to tests/ without `.toml`.
    static func cases(_ group: String) throws -> [String] {
        try String(contentsOfFile: listFile, encoding: .utf8).split(separator: "\n")
            .filter { $0.hasPrefix(group + "/") && $0.hasSuffix(".toml") }
            .map { String($0.dropLast(".toml".count)) }
    }

    static func bytes(_ name: String, _ suffix: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + suffix)))
    }
}

@Suite struct TOMLConformanceTests {
    @Test(.enabled(if: TOMLTestSuite.isPresent, TOMLTestSuite.absentReason))
    func everyValidCaseParsesToTheExpectedValue() throws {
        let cases = try TOMLTestSuite.cases("valid")
        #expect(cases.count > 200, "the case list \(TOMLTestSuite.listFile) looks truncated: \(cases.count) valid cases")
        var passed = 0
        for name in cases {
            let expected = try JSONSerialization.jsonObject(with: Data(try TOMLTestSuite.bytes(name, ".json")))
            let document: TOMLTable
            do {
                document = try TOMLTable(parsing: try TOMLTestSuite.bytes(name, ".toml"))
            } catch {
                Issue.record("\(name).toml is valid TOML but was rejected: \(error)")
                continue
            }
            let actual = TaggedJSON.tagged(TOMLValue(.table(document), at: document.position))
            if let difference = TaggedJSON.difference(actual, expected, at: "") {
                Issue.record("\(name).toml parsed to a different value: \(difference)")
                continue
            }
            passed += 1
        }
        print("toml-test 1.0.0 valid cases: \(passed)/\(cases.count) pass")
    }

    @Test(.enabled(if: TOMLTestSuite.isPresent, TOMLTestSuite.absentReason))
    func everyInvalidCaseIsRejectedWithAPosition() throws {
        let cases = try TOMLTestSuite.cases("invalid")
        #expect(cases.count > 400, "the case list \(TOMLTestSuite.listFile) looks truncated: \(cases.count) invalid cases")
        var passed = 0
        for name in cases {
            let bytes = try TOMLTestSuite.bytes(name, ".toml")
            let lineCount = bytes.count(where: { $0 == 0x0A }) + 1
            do {
                _ = try TOMLTable(parsing: bytes)
                Issue.record("\(name).toml is invalid TOML but was accepted")
            } catch {
                guard (1...lineCount).contains(error.position.line), error.position.column >= 1 else {
                    Issue.record("\(name).toml was rejected at an impossible position \(error.position): \(error.message)")
                    continue
                }
                passed += 1
            }
        }
        print("toml-test 1.0.0 invalid cases: \(passed)/\(cases.count) rejected with a position")
    }
}

/// toml-test's tagged JSON: scalars as {"type": ..., "value": "..."}, tables as objects, arrays as arrays.
enum TaggedJSON {
    static func tagged(_ value: TOMLValue) -> Any {
        func scalar(_ type: String, _ text: String) -> [String: String] { ["type": type, "value": text] }
        switch value.kind {
        case .string(let text): return scalar("string", text)
        case .integer(let number): return scalar("integer", String(number))
        case .float(let number):
            return scalar("float", number.isNaN ? "nan" : number.isInfinite ? (number < 0 ? "-inf" : "inf") : "\(number)")
        case .boolean(let flag): return scalar("bool", String(flag))
        case .offsetDateTime(let moment): return scalar("datetime", moment.description)
        case .localDateTime(let moment): return scalar("datetime-local", moment.description)
        case .localDate(let date): return scalar("date-local", date.description)
        case .localTime(let time): return scalar("time-local", time.description)
        case .array(let elements): return elements.map(tagged)
        case .table(let table):
            return Dictionary(uniqueKeysWithValues: table.entries.map { ($0.key, tagged($0.value)) })
        }
    }

    /// Nil when equal; floats compare as numbers (nan equals nan), date-times in canonical form.
    static func difference(_ actual: Any, _ expected: Any, at path: String) -> String? {
        if let expectedScalar = scalar(expected) {
            guard let actualScalar = scalar(actual) else { return "\(path): expected a \(expectedScalar.type), got \(actual)" }
            guard actualScalar.type == expectedScalar.type else {
                return "\(path): expected a \(expectedScalar.type) \(expectedScalar.value), got a \(actualScalar.type) \(actualScalar.value)"
            }
            let same: Bool
            switch expectedScalar.type {
            case "float": same = sameFloat(actualScalar.value, expectedScalar.value)
            case "datetime", "datetime-local", "date-local", "time-local":
                same = canonicalDateTime(actualScalar.value) == canonicalDateTime(expectedScalar.value)
            default: same = actualScalar.value == expectedScalar.value
            }
            return same ? nil : "\(path): expected \(expectedScalar.type) \(expectedScalar.value.debugDescription), got \(actualScalar.value.debugDescription)"
        }
        if let expectedArray = expected as? [Any] {
            guard let actualArray = actual as? [Any] else { return "\(path): expected an array, got \(actual)" }
            guard actualArray.count == expectedArray.count else {
                return "\(path): expected \(expectedArray.count) elements, got \(actualArray.count)"
            }
            for (offset, pair) in zip(actualArray, expectedArray).enumerated() {
                if let difference = difference(pair.0, pair.1, at: "\(path)[\(offset)]") { return difference }
            }
            return nil
        }
        guard let expectedTable = expected as? [String: Any] else { return "\(path): unreadable expectation \(expected)" }
        guard let actualTable = actual as? [String: Any], scalar(actual) == nil else { return "\(path): expected a table, got \(actual)" }
        guard Set(actualTable.keys) == Set(expectedTable.keys) else {
            return "\(path): expected keys \(expectedTable.keys.sorted()), got \(actualTable.keys.sorted())"
        }
        for key in expectedTable.keys.sorted() {
            if let difference = difference(actualTable[key]!, expectedTable[key]!, at: path.isEmpty ? key : "\(path).\(key)") {
                return difference
            }
        }
        return nil
    }

    private static func scalar(_ value: Any) -> (type: String, value: String)? {
        guard let table = value as? [String: Any], table.count == 2,
              let type = table["type"] as? String, let text = table["value"] as? String else { return nil }
        return (type, text)
    }

    private static func sameFloat(_ a: String, _ b: String) -> Bool {
        func number(_ text: String) -> Double? {
            switch text {
            case "nan", "+nan", "-nan": return .nan
            case "inf", "+inf": return .infinity
            case "-inf": return -.infinity
            default: return Double(text)
            }
        }
        guard let x = number(a), let y = number(b) else { return false }
        return (x.isNaN && y.isNaN) || x == y
    }

    /// toml-test's canonical form: upper-case T and Z, a space separator read as T, a fraction
    /// without trailing zeros, and a zero offset written Z.
    static func canonicalDateTime(_ text: String) -> String {
        var characters = Array(text.uppercased())
        if characters.count > 10, characters[10] == " " { characters[10] = "T" }
        var result = String(characters)
        for zero in ["+00:00", "-00:00"] where result.hasSuffix(zero) { result = String(result.dropLast(6)) + "Z" }
        if let dot = result.firstIndex(of: ".") {
            let digitsEnd = result[result.index(after: dot)...].firstIndex { !$0.isNumber } ?? result.endIndex
            var digits = String(result[result.index(after: dot)..<digitsEnd])
            while digits.hasSuffix("0") { digits.removeLast() }
            result = String(result[..<dot]) + (digits.isEmpty ? "" : "." + digits) + String(result[digitsEnd...])
        }
        return result
    }
}
