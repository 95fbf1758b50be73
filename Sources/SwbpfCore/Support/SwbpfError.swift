/// Every way swbpf can refuse to go on, each with its diagnostic: what went wrong, where, and how
/// to fix it.
public enum SwbpfError: DiagnosticError, Equatable {
    case projectDirectoryMissing(path: String)
    case noApps(directory: String, kernelOnly: [String])
    case unknownApp(name: String, available: [String])
    case appWithoutUserPart(name: String, configFile: String, line: Int)
    case missingSource(path: String, referencedBy: String)
    case responseFileName(path: String, referencedBy: String)
    case duplicateOutput(path: String, first: String, second: String)
    /// A file that a step reads as a source (or swbpf's own state) would be written by another.
    case productIsSource(path: String, reader: String, writer: String)
    /// A product would replace a file that swbpf did not make.
    case wouldOverwriteUserFile(path: String, key: String)

    case configSyntax(file: String, line: Int, column: Int, message: String)
    case configUnknownKey(file: String, line: Int, key: String, known: [String])
    case configWrongType(file: String, line: Int, key: String, expected: String)
    case configInvalidValue(file: String, line: Int, key: String, message: String)
    case configNotAFile(path: String, kind: String)
    case configTooLarge(path: String, size: Int64, limit: Int)

    case toolNotFound(tool: String, tried: [String], package: String, knob: String)
    case toolProbeFailed(tool: String, command: String, output: String)
    case clangWithoutBPFTarget(clang: String, version: String)
    case libbpfNotFound(tried: [String])
    case noVmlinuxSource(btfPath: String)
    case vmlinuxSourceMissing(path: String, origin: String)

    case outputDirectoryNotWritable(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case lockTimeout(path: String, seconds: Int, holder: String)
    /// A file or directory swbpf creates itself is something else (a planted symbolic link).
    case notSwbpfsOwn(path: String, problem: String)

    case invalidAppName(name: String, reason: String)
    case unknownTemplate(name: String, available: [String])
    case directoryNotEmpty(path: String)
    case refusedToOverwrite(files: [String])

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
        case .duplicateOutput(let path, let first, let second):
            return Diagnostic(.error, "two steps would write '\(path)': \(first) and \(second)",
                              help: "rename one of the sources so their object files differ")
        case .productIsSource(let path, let reader, let writer):
            return Diagnostic(.error, "\(writer) would overwrite '\(path)', which \(reader) reads",
                              help: "rename the app or the file, or move the products elsewhere with 'output = \"DIR\"' or 'bin = \"DIR\"' in swbpf.toml")
        case .wouldOverwriteUserFile(let path, let key):
            return Diagnostic(.error, "'\(path)' exists and swbpf did not make it: building would overwrite it",
                              help: "move or remove it if it is not yours to keep, or set '\(key) = \"DIR\"' in swbpf.toml to build elsewhere")

        case .configSyntax(let file, let line, let column, let message):
            return Diagnostic(.error, message, at: .init(file: file, line: line, column: column),
                              help: "fix the TOML syntax at that position")
        case .configUnknownKey(let file, let line, let key, let known):
            return Diagnostic(.error, "unknown key '\(key)'", at: .init(file: file, line: line),
                              help: "the keys allowed here are: \(known.joined(separator: ", "))")
        case .configWrongType(let file, let line, let key, let expected):
            return Diagnostic(.error, "key '\(key)' must be \(expected)", at: .init(file: file, line: line),
                              help: "for example: \(Self.example(for: expected, key: key))")
        case .configInvalidValue(let file, let line, let key, let message):
            return Diagnostic(.error, "key '\(key)': \(message)", at: .init(file: file, line: line))
        case .configNotAFile(let path, let kind):
            return Diagnostic(.error, "'\(path)' is \(kind), not a regular file, so swbpf cannot read its settings from it",
                              help: "make it a regular file (a symbolic link to one is fine), or remove it to use the defaults")
        case .configTooLarge(let path, let size, let limit):
            return Diagnostic(.error, "'\(path)' is \(size) bytes, more than the \(limit / 1024 / 1024) MiB a swbpf.toml may have",
                              help: "a project's settings fit in a few lines: check that this is the right file")

        case .toolNotFound(let tool, let tried, let package, let knob):
            return Diagnostic(.error, "\(tool) not found (looked for: \(tried.joined(separator: ", ")))",
                              help: "install it with 'apt-get install \(package)', or set \(knob) to its path")
        case .toolProbeFailed(let tool, let command, let output):
            return Diagnostic(.error, "could not query \(tool): '\(command)' failed\n\(output)", help: "check that \(tool) runs on this machine")
        case .clangWithoutBPFTarget(let clang, let version):
            return Diagnostic(.error, "\(clang) (\(version)) cannot generate eBPF code: 'bpf' is not among its targets ('\(clang) -print-targets')",
                              help: "install Debian's clang (apt-get install clang llvm) or point CLANG at a clang built with the BPF target")
        case .libbpfNotFound(let tried):
            return Diagnostic(.error, "libbpf.a not found (looked in: \(tried.joined(separator: ", ")))",
                              help: "install it with 'apt-get install libbpf-dev libelf-dev zlib1g-dev pkg-config', or set LIBBPF_OBJ to a libbpf.a (or [libbpf] archive in swbpf.toml)")
        case .noVmlinuxSource(let btfPath):
            return Diagnostic(.error, "cannot make vmlinux.h: this kernel has no BTF at \(btfPath) and the project names no vmlinux.h",
                              help: "either set VMLINUX (or vmlinux in swbpf.toml) to a vmlinux.h, or to a BTF file for your target kernel (for example one from BTFHub), or build on a kernel with CONFIG_DEBUG_INFO_BTF=y")
        case .vmlinuxSourceMissing(let path, let origin):
            return Diagnostic(.error, "vmlinux source '\(path)' (from \(origin)) does not exist",
                              help: "point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF")

        case .outputDirectoryNotWritable(let path, let reason):
            return Diagnostic(.error, "cannot write to output directory '\(path)': \(reason)",
                              help: "fix its permissions, or choose another one with 'output = \"DIR\"' in swbpf.toml")
        case .cannotCreateDirectory(let path, let reason):
            return Diagnostic(.error, "cannot create directory '\(path)': \(reason)", help: "check the permissions of its parent directory")
        case .cannotWrite(let path, let reason):
            return Diagnostic(.error, "cannot write '\(path)': \(reason)")
        case .cannotRead(let path, let reason):
            return Diagnostic(.error, "cannot read '\(path)': \(reason)", help: "check the file's permissions")
        case .lockTimeout(let path, let seconds, let holder):
            return Diagnostic(.error, "another swbpf build (\(holder)) has held '\(path)' for \(seconds) s",
                              help: "wait for it to finish, or stop it; raise the wait with --lock-timeout SECONDS")
        case .notSwbpfsOwn(let path, let problem):
            return Diagnostic(.error, "'\(path)' \(problem); swbpf creates it itself and never writes through a link or into a file it did not make",
                              help: "remove it ('rm \(Shell.quote(path))') and run swbpf again")

        case .invalidAppName(let name, let reason):
            return Diagnostic(.error, "'\(name)' cannot be an app name: \(reason)", help: "use a C identifier such as 'mytool' or 'tcp_trace'")
        case .unknownTemplate(let name, let available):
            return Diagnostic(.error, "no template named '\(name)'",
                              help: "the templates are: \(available.joined(separator: ", ")) ('swbpf templates' describes them)")
        case .directoryNotEmpty(let path):
            return Diagnostic(.error, "'\(path)' exists and is not empty",
                              help: "choose a new directory, or use 'swbpf add NAME --template T' inside an existing project")
        case .refusedToOverwrite(let files):
            return Diagnostic(.error, "refusing to overwrite existing files: \(files.joined(separator: ", "))", help: "pass --force to replace them")
        }
    }

    private static func example(for expected: String, key: String) -> String {
        if expected.contains("list") { return "\(key) = [\"...\"]" }
        if expected.contains("table") { return "[\(key)]" }
        return "\(key) = \"...\""
    }
}
