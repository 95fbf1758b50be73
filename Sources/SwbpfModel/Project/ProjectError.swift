import SwbpfBasics

/// A project that cannot be loaded: its directory, its apps, its sources.
public enum ProjectError: DiagnosticError, Equatable {
    case projectDirectoryMissing(path: String)
    case noApps(directory: String, kernelOnly: [String])
    case unknownApp(name: String, available: [String])
    case appWithoutUserPart(name: String, configFile: String, line: Int)
    case missingSource(path: String, referencedBy: String)
    /// A `[program.NAME]` whose name is an app's.
    case programIsApp(name: String, configFile: String, line: Int)
    case responseFileName(path: String, referencedBy: String)
    /// NAME.c and a Swift user part (NAME.swift or a NAME/ folder of .swift files) both stand beside NAME.bpf.c.
    case twoUserParts(name: String, swiftSources: [String])
    /// A Swift app's swbpf.toml `sources` names a file that is not Swift.
    case notASwiftSource(app: String, path: String, configFile: String, line: Int)
    /// A Swift app's sources are in a NAME/ folder where its binary would go.
    case swiftFolderIsBinaryPath(name: String)
    /// A Swift app in a build for another machine: there is no Swift SDK for it here.
    case swiftForOtherTarget(app: String, target: String, origin: String)
    /// A source or header of the project is a FIFO, a device or a socket: reading it would block or never end.
    case notARegularFile(path: String, kind: String)
    /// bpftool cannot turn the app's name into the C identifier its skeleton is named after.
    case appNameNotIdentifier(name: String, file: String)

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
        case .programIsApp(let name, let file, let line):
            return Diagnostic(.error, "[program.\(name)] has the name of an app (\(name).bpf.c or [app.\(name)]): both would write the binary \(name)",
                              at: .init(file: file, line: line),
                              help: "rename the program's table, for example [program.\(name)-tool]")
        case .missingSource(let path, let referencedBy):
            return Diagnostic(.error, "source file '\(path)' does not exist (named by \(referencedBy))",
                              help: "create the file or fix the name in \(referencedBy)")
        case .twoUserParts(let name, let swiftSources):
            return Diagnostic(.error, "app '\(name)' has two user-space parts: \(name).c and \(swiftSources.joined(separator: ", "))",
                              notes: ["an app's user space is NAME.c (C) or NAME.swift / a \(name)/ folder of .swift files (Swift), not both"],
                              help: "remove or rename one of them: keep \(name).c for a C app, or \(swiftSources[0]) for a Swift app")
        case .notASwiftSource(let app, let path, let file, let line):
            return Diagnostic(.error, "'\(path)' in [app.\(app)] sources is not a .swift file, and \(app) is a Swift app",
                              at: .init(file: file, line: line),
                              help: "name only .swift files there; C code for a Swift app goes in a helper (HELPER.c with HELPER.h, included from \(app).h) or in the project-wide sources")
        case .swiftFolderIsBinaryPath(let name):
            return Diagnostic(.error, "the Swift sources of '\(name)' are in the folder \(name)/, where its binary \(name) would be written",
                              help: "set bin = \"bin\" (or another directory) in swbpf.toml, or use a single \(name).swift")
        case .swiftForOtherTarget(let app, let target, let origin):
            return Diagnostic(.error, "\(app) is a Swift app, and the build is for \(target) (from \(origin)): swbpf cannot build Swift user space for another machine",
                              notes: ["that needs a Swift SDK for \(target) (its standard library and runtime built for it), which this toolchain does not have"],
                              help: "build \(app) on an \(target) machine, or write its user space in C; a build that does not name \(app) leaves it out with a note")
        case .notARegularFile(let path, let kind):
            return Diagnostic(.error, "'\(path)' is \(kind), not a regular file: swbpf reads sources and headers only from regular files",
                              help: "replace it with a regular file, or remove it from the project directory")
        case .appNameNotIdentifier(let name, let file):
            return Diagnostic(.error, "'\(name)' (from \(file)) cannot be an app name: bpftool names the skeleton \(App.skeletonName(of: name)), which is not a C identifier",
                              notes: ["an app name must be ASCII letters, digits, '_' or '-' (bpftool turns '-' into '_'), not starting with a digit"],
                              help: "rename \(file) and its user part, for example to \(App.suggestedName(for: name)).bpf.c")
        case .responseFileName(let path, let referencedBy):
            return Diagnostic(.error, "source file '\(path)' (named by \(referencedBy)) starts with '@': clang would read it as a list of options",
                              help: "rename the file")
        }
    }
}
