/// A project that cannot be loaded: its directory, its apps, its sources.
public enum ProjectError: DiagnosticError, Equatable {
    case projectDirectoryMissing(path: String)
    case noApps(directory: String, kernelOnly: [String])
    case unknownApp(name: String, available: [String])
    case appWithoutUserPart(name: String, configFile: String, line: Int)
    case missingSource(path: String, referencedBy: String)
    case responseFileName(path: String, referencedBy: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .projectDirectoryMissing(let path):
            return Diagnostic(.error, "project directory '\(path)' does not exist",
                              help: "pass an existing directory with -C DIR, or run swbpf in the project directory")
        case .noApps(let directory, let kernelOnly):
            return Diagnostic(.error, "no eBPF apps found in '\(directory)': an app is a NAME.bpf.c with a NAME.c beside it",
                              notes: kernelOnly.isEmpty ? [] : ["these kernel parts have no user-space part: "
                                                                + kernelOnly.map { "\($0).bpf.c" }.joined(separator: ", ")],
                              help: "add NAME.c next to NAME.bpf.c, or start a project with 'swbpf new DIR'")
        case .unknownApp(let name, let available):
            return Diagnostic(.error, "no app named '\(name)'", notes: ["the apps in this project are: \(available.joined(separator: ", "))"],
                              help: "an app is a NAME.bpf.c with a NAME.c beside it; check the spelling or add the files")
        case .appWithoutUserPart(let name, let file, let line):
            return Diagnostic(.error, "app '\(name)' is configured but there is no \(name).bpf.c with a \(name).c beside it",
                              at: .init(file: file, line: line),
                              help: "create \(name).bpf.c and \(name).c, or remove [app.\(name)] from \(file)")
        case .missingSource(let path, let referencedBy):
            return Diagnostic(.error, "source file '\(path)' does not exist (named by \(referencedBy))",
                              help: "create the file or fix the name in \(referencedBy)")
        case .responseFileName(let path, let referencedBy):
            return Diagnostic(.error, "source file '\(path)' (named by \(referencedBy)) starts with '@': clang would read it as a list of options",
                              help: "rename the file")
        }
    }
}
