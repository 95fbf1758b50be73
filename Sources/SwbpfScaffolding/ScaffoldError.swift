import SwbpfBasics

/// A project or app that cannot be created from a template.
public enum ScaffoldError: DiagnosticError, Equatable {
    case invalidAppName(name: String, reason: String)
    case unknownTemplate(name: String, available: [String])
    case directoryNotEmpty(path: String)
    case refusedToOverwrite(files: [String])
    /// The template has no user space in the language asked for.
    case noVersion(template: String, language: String, available: [String])
    /// `swbpf init` where a swbpf.toml already is.
    case configExists(path: String)
    /// `swbpf init` with no Makefile to learn from.
    case noMakefile(directory: String, tried: [String])
    case makeNotFound
    /// make could not read the Makefile (a syntax error, an `$(error ...)`).
    case makeFailed(command: String, status: Int32, output: String)
    /// A word given to `swbpf init` for make that is not `NAME=VALUE`.
    case badMakeVariable(word: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .invalidAppName(let name, let reason):
            return Diagnostic(.error, "'\(name)' cannot be an app name: \(reason)", help: "use a C identifier such as 'mytool' or 'tcp_trace'")
        case .unknownTemplate(let name, let available):
            return Diagnostic(.error, "no template named '\(name)'",
                              help: "the templates are: \(available.joined(separator: ", ")) ('swbpf templates' describes them)")
        case .directoryNotEmpty(let path):
            return Diagnostic(.error, "'\(path)' exists and is not empty",
                              help: "choose a new directory, or use 'swbpf add NAME --template T' inside an existing project")
        case .noVersion(let template, let language, let available):
            return Diagnostic(.error, "the '\(template)' template has no \(language == "swift" ? "Swift" : language) version",
                              help: available.isEmpty ? "leave --lang out for the C version"
                                  : "the templates with one are: \(available.joined(separator: ", ")); or leave --lang out for the C version of '\(template)'")
        case .configExists(let path):
            return Diagnostic(.error, "'\(path)' exists: swbpf init writes a new swbpf.toml and never replaces one",
                              help: "move it aside and run swbpf init again, or edit it by hand")
        case .noMakefile(let directory, let tried):
            return Diagnostic(.error, "no Makefile in '\(directory)' (looked for \(tried.joined(separator: ", ")))",
                              help: "name it with --from-makefile FILE, or start a project with 'swbpf new DIR'")
        case .makeNotFound:
            return Diagnostic(.error, "make is not on PATH: swbpf init asks GNU make what the Makefile says",
                              help: "install it: apt-get install make")
        case .makeFailed(let command, let status, let output):
            return Diagnostic(.error, "make could not read the Makefile (exit status \(status)): \(command)",
                              notes: output.isEmpty ? [] : [output],
                              help: "fix what make reports, so that 'make -n' works here, then run swbpf init again")
        case .badMakeVariable(let word):
            return Diagnostic(.error, "'\(word)' is not a make variable setting: swbpf init passes only NAME=VALUE words to make",
                              help: "give the variables as you give them to make, such as 'swbpf init CARGO= USE_BLAZESYM=0'; a NAME is letters, digits and _")
        case .refusedToOverwrite(let files):
            return Diagnostic(.error, "refusing to overwrite existing files: \(files.joined(separator: ", "))", help: "pass --force to replace them")
        }
    }
}
