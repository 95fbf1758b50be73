/// Every way swbpf can refuse to go on. Each description reads like a compiler message: what went
/// wrong, where, and (after `help:`) how to fix it.
public enum SwbpfError: Error, CustomStringConvertible, Equatable {
    case projectDirectoryMissing(path: String)
    case noApps(directory: String, kernelOnly: [String])
    case unknownApp(name: String, available: [String])
    case appWithoutUserPart(name: String, configFile: String, line: Int)
    case missingSource(path: String, referencedBy: String)
    case duplicateOutput(path: String, first: String, second: String)

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

    case invalidAppName(name: String, reason: String)
    case unknownTemplate(name: String, available: [String])
    case directoryNotEmpty(path: String)
    case refusedToOverwrite(files: [String])

    public var description: String {
        switch self {
        case .projectDirectoryMissing(let path):
            return "error: project directory '\(path)' does not exist\nhelp: pass an existing directory with -C DIR, or run swbpf in the project directory"
        case .noApps(let directory, let kernelOnly):
            var text = "error: no eBPF apps found in '\(directory)': an app is a NAME.bpf.c with a NAME.c beside it"
            if !kernelOnly.isEmpty {
                text += "\nnote: these kernel parts have no user-space part: " + kernelOnly.map { "\($0).bpf.c" }.joined(separator: ", ")
            }
            return text + "\nhelp: add NAME.c next to NAME.bpf.c, or start a project with 'swbpf new DIR'"
        case .unknownApp(let name, let available):
            return "error: no app named '\(name)'\nnote: the apps in this project are: \(available.joined(separator: ", "))\nhelp: an app is a NAME.bpf.c with a NAME.c beside it; check the spelling or add the files"
        case .appWithoutUserPart(let name, let file, let line):
            return "error: \(file):\(line): app '\(name)' is configured but there is no \(name).bpf.c with a \(name).c beside it\nhelp: create \(name).bpf.c and \(name).c, or remove [app.\(name)] from \(file)"
        case .missingSource(let path, let referencedBy):
            return "error: source file '\(path)' does not exist (named by \(referencedBy))\nhelp: create the file or fix the name in \(referencedBy)"
        case .duplicateOutput(let path, let first, let second):
            return "error: two steps would write '\(path)': \(first) and \(second)\nhelp: rename one of the sources so their object files differ"

        case .configSyntax(let file, let line, let column, let message):
            return "error: \(file):\(line):\(column): \(message)\nhelp: fix the TOML syntax at that position"
        case .configUnknownKey(let file, let line, let key, let known):
            return "error: \(file):\(line): unknown key '\(key)'\nhelp: the keys allowed here are: \(known.joined(separator: ", "))"
        case .configWrongType(let file, let line, let key, let expected):
            return "error: \(file):\(line): key '\(key)' must be \(expected)\nhelp: for example: \(Self.example(for: expected, key: key))"
        case .configInvalidValue(let file, let line, let key, let message):
            return "error: \(file):\(line): key '\(key)': \(message)"
        case .configNotAFile(let path, let kind):
            return "error: '\(path)' is \(kind), not a regular file, so swbpf cannot read its settings from it\nhelp: make it a regular file (a symbolic link to one is fine), or remove it to use the defaults"
        case .configTooLarge(let path, let size, let limit):
            return "error: '\(path)' is \(size) bytes, more than the \(limit / 1024 / 1024) MiB a swbpf.toml may have\nhelp: a project's settings fit in a few lines: check that this is the right file"

        case .toolNotFound(let tool, let tried, let package, let knob):
            return "error: \(tool) not found (looked for: \(tried.joined(separator: ", ")))\nhelp: install it with 'apt-get install \(package)', or set \(knob) to its path"
        case .toolProbeFailed(let tool, let command, let output):
            return "error: could not query \(tool): '\(command)' failed\n\(output)\nhelp: check that \(tool) runs on this machine"
        case .clangWithoutBPFTarget(let clang, let version):
            return "error: \(clang) (\(version)) cannot generate eBPF code: 'bpf' is not among its targets ('\(clang) -print-targets')\nhelp: install Debian's clang (apt-get install clang llvm) or point CLANG at a clang built with the BPF target"
        case .libbpfNotFound(let tried):
            return "error: libbpf.a not found (looked in: \(tried.joined(separator: ", ")))\nhelp: install it with 'apt-get install libbpf-dev libelf-dev zlib1g-dev pkg-config', or set LIBBPF_OBJ to a libbpf.a (or [libbpf] archive in swbpf.toml)"
        case .noVmlinuxSource(let btfPath):
            return "error: cannot make vmlinux.h: this kernel has no BTF at \(btfPath) and the project names no vmlinux.h\nhelp: either set VMLINUX (or vmlinux in swbpf.toml) to a vmlinux.h, or to a BTF file for your target kernel (for example one from BTFHub), or build on a kernel with CONFIG_DEBUG_INFO_BTF=y"
        case .vmlinuxSourceMissing(let path, let origin):
            return "error: vmlinux source '\(path)' (from \(origin)) does not exist\nhelp: point it at an existing vmlinux.h or BTF file, or unset it to use the running kernel's BTF"

        case .outputDirectoryNotWritable(let path, let reason):
            return "error: cannot write to output directory '\(path)': \(reason)\nhelp: fix its permissions, or choose another one with 'output = \"DIR\"' in swbpf.toml"
        case .cannotCreateDirectory(let path, let reason):
            return "error: cannot create directory '\(path)': \(reason)\nhelp: check the permissions of its parent directory"
        case .cannotWrite(let path, let reason):
            return "error: cannot write '\(path)': \(reason)"
        case .cannotRead(let path, let reason):
            return "error: cannot read '\(path)': \(reason)\nhelp: check the file's permissions"
        case .lockTimeout(let path, let seconds, let holder):
            return "error: another swbpf build (\(holder)) has held '\(path)' for \(seconds) s\nhelp: wait for it to finish, or stop it; raise the wait with --lock-timeout SECONDS"

        case .invalidAppName(let name, let reason):
            return "error: '\(name)' cannot be an app name: \(reason)\nhelp: use a C identifier such as 'mytool' or 'tcp_trace'"
        case .unknownTemplate(let name, let available):
            return "error: no template named '\(name)'\nhelp: the templates are: \(available.joined(separator: ", ")) ('swbpf templates' describes them)"
        case .directoryNotEmpty(let path):
            return "error: '\(path)' exists and is not empty\nhelp: choose a new directory, or use 'swbpf add NAME --template T' inside an existing project"
        case .refusedToOverwrite(let files):
            return "error: refusing to overwrite existing files: \(files.joined(separator: ", "))\nhelp: pass --force to replace them"
        }
    }

    private static func example(for expected: String, key: String) -> String {
        if expected.contains("list") { return "\(key) = [\"...\"]" }
        if expected.contains("table") { return "[\(key)]" }
        return "\(key) = \"...\""
    }
}
