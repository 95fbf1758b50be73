import SwbpfBasics
import SwbpfModel

/// One thing a tool must be asked, which costs running it, and where its answer is filed.
public struct ToolQuestion: Sendable {
    public enum Kind: Sendable {
        /// clang's version, whether it has the BPF target, and its system include directories.
        case clang
        /// The version a tool prints for `--version`.
        case version
        /// bpftool's version and its libbpf's.
        case bpftool
        /// pkg-config's libdir, includedir and version of libbpf.
        case libbpfPkgConfig
        /// pkg-config's static libraries for libelf on the target `triple`, asked this way.
        case staticLibraries(triple: String, arguments: [String], environment: [String: String]?)
    }

    /// What answers a question: `askTool` runs the tool; tests count or refuse.
    public typealias Asker = @Sendable (ToolQuestion) async throws -> [String]

    public var kind: Kind
    public var tool: Tool

    package init(_ kind: Kind, _ tool: Tool) {
        self.kind = kind
        self.tool = tool
    }

    /// The tool and how it is asked, valid while the executable's stat data (and the variables
    /// folded into its fingerprint) are unchanged.
    public var key: ToolAnswers.Key {
        let asked: String
        switch kind {
        case .clang: asked = "clang"
        case .version: asked = "version"
        case .bpftool: asked = "bpftool+libbpf"
        case .libbpfPkgConfig: asked = "pkg-config-libbpf"
        case .staticLibraries(let triple, _, _): asked = "static-libelf \(triple)"
        }
        return ToolAnswers.Key(subject: ([asked, tool.role.rawValue, tool.path] + tool.leadingArguments).joined(separator: " "),
                               identity: tool.fingerprint)
    }

    /// Runs the tool.
    public static let askTool: Asker = { question in
        let tool = question.tool
        switch question.kind {
        case .clang: return try await ToolchainResolver.probeClang(tool)
        case .version: return try await ToolchainResolver.probeVersion(tool, arguments: ["--version"])
        case .bpftool: return try await ToolchainResolver.probeBpftool(tool)
        case .libbpfPkgConfig: return try await ToolchainResolver.probeLibbpfPkgConfig(tool)
        case .staticLibraries(_, let arguments, let environment):
            return try await ToolchainResolver.askStaticLibraries(tool, arguments: arguments, environment: environment)
        }
    }

    /// Asks every question at once; the answers come in the questions' order.
    package static func ask(_ questions: [ToolQuestion], with ask: @escaping Asker) async throws -> [(key: ToolAnswers.Key, values: [String])] {
        var answers = [[String]](repeating: [], count: questions.count)
        try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for index in questions.indices {
                let question = questions[index]
                group.addTask { (index, try await ask(question)) }
            }
            for try await (index, values) in group { answers[index] = values }
        }
        return zip(questions, answers).map { ($0.key, $1) }
    }
}

/// The answers one resolution attempt found, and the questions no cached answer covers.
package struct AnswerLookup {
    package let answers: ToolAnswers
    package private(set) var missing: [ToolQuestion] = []

    package init(answers: ToolAnswers) { self.answers = answers }

    /// The cached answer, or nil (and the question noted as missing); nil for no question.
    package mutating func answer(_ question: ToolQuestion?) -> [String]? {
        guard let question else { return nil }
        if let known = answers[question.key] { return known }
        missing.append(question)
        return nil
    }
}
