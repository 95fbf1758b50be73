import SwbpfBasics

/// A project or app that cannot be created from a template.
public enum ScaffoldError: DiagnosticError, Equatable {
    case invalidAppName(name: String, reason: String)
    case unknownTemplate(name: String, available: [String])
    case directoryNotEmpty(path: String)
    case refusedToOverwrite(files: [String])
    /// The template has no user space in the language asked for.
    case noVersion(template: String, language: String, available: [String])

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
        case .refusedToOverwrite(let files):
            return Diagnostic(.error, "refusing to overwrite existing files: \(files.joined(separator: ", "))", help: "pass --force to replace them")
        }
    }
}
