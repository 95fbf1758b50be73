import FoundationEssentials

/// Finds the tools, libbpf, the arch and the vmlinux source once per build.
///
/// Querying a tool costs a process (clang's takes tens of milliseconds), so answers are cached in the
/// build state, keyed by the executable's path and stat data: a no-op build starts no process. The
/// resolver reads a snapshot of those answers and hands fresh ones back for the caller to store, so
/// the concurrent queries share no mutable state.
public struct ToolchainResolver: Sendable {
    public var project: Project
    public var environment: [String: String]
    /// Tool answers cached by earlier builds, by `probeKey`.
    public var cachedAnswers: [String: [String]]
    /// Where the running kernel publishes its BTF.
    public var kernelBTF = "/sys/kernel/btf/vmlinux"

    public init(project: Project, environment: [String: String], cachedAnswers: [String: [String]]) {
        self.project = project
        self.environment = environment
        self.cachedAnswers = cachedAnswers
    }

    /// A resolved toolchain and the tool answers that were asked for now (to be cached).
    public struct Resolution: Sendable {
        public var toolchain: Toolchain
        public var freshAnswers: [(key: String, values: [String])]
    }

    /// The toolchain from cached tool answers alone, or nil when some tool must be asked. This is
    /// what a no-op build uses: no process, no concurrency.
    public func resolveFromCache() throws -> Toolchain? {
        let (clang, bpftool, cc) = try locateTools()
        guard let clangAnswer = cachedAnswers[probeKey(clang)], let bpftoolAnswer = cachedAnswers[probeKey(bpftool)],
              let ccAnswer = cachedAnswers[probeKey(cc)] else { return nil }
        var pkgConfigAnswer: [String]?
        if needsPkgConfig, let tool = pkgConfigTool() {
            guard let cached = cachedAnswers[probeKey(tool)] else { return nil }
            pkgConfigAnswer = cached
        }
        return try assemble(clang: clang, clangAnswer, bpftool: bpftool, bpftoolAnswer, cc: cc, ccAnswer,
                            libbpf: libbpf(pkgConfigAnswer: pkgConfigAnswer))
    }

    /// The toolchain, asking each tool whose answer is not cached (concurrently), and caching it.
    public func resolve() async throws -> Resolution {
        if let cached = try resolveFromCache() { return Resolution(toolchain: cached, freshAnswers: []) }
        let (clang, bpftool, cc) = try locateTools()
        async let clangFacts = query(clang) { try await Self.probeClang($0) }
        async let bpftoolFacts = query(bpftool) { try await Self.probeVersion($0, arguments: ["version"]) }
        async let ccFacts = query(cc) { try await Self.probeVersion($0, arguments: ["--version"]) }
        var pkgConfig: (key: String, values: [String], fresh: Bool)?
        if needsPkgConfig, let tool = pkgConfigTool() {
            pkgConfig = try await query(tool) { tool -> [String] in
                // pkg-config prints only the last of several --variable options, so ask twice.
                async let libdir = ProcessRunner.capture(tool.path, ["--variable=libdir", "libbpf"])
                async let includedir = ProcessRunner.capture(tool.path, ["--variable=includedir", "libbpf"])
                let outcomes = try await [libdir, includedir]
                guard outcomes.allSatisfy({ $0.status == 0 }) else { return [] }
                return outcomes.map { String(decoding: $0.standardOutput, as: UTF8.self).trimmed() }
            }
        }
        let answers = try await [clangFacts, bpftoolFacts, ccFacts]
        let toolchain = try assemble(clang: clang, answers[0].values, bpftool: bpftool, answers[1].values, cc: cc, answers[2].values,
                                     libbpf: libbpf(pkgConfigAnswer: pkgConfig?.values))
        let fresh = (answers + (pkgConfig.map { [$0] } ?? [])).filter(\.fresh).map { (key: $0.key, values: $0.values) }
        return Resolution(toolchain: toolchain, freshAnswers: fresh)
    }

    func locateTools() throws -> (clang: Tool, bpftool: Tool, cc: Tool) {
        (try locate(.clang), try locate(.bpftool), try locate(.cc))
    }

    func assemble(clang: Tool, _ clangAnswer: [String], bpftool: Tool, _ bpftoolAnswer: [String], cc: Tool, _ ccAnswer: [String],
                  libbpf: Libbpf) throws -> Toolchain {
        var clang = clang, bpftool = bpftool, cc = cc
        clang.version = clangAnswer.first ?? "unknown"
        guard clangAnswer.count >= 2, clangAnswer[1] == "bpf" else {
            throw ToolchainError.clangWithoutBPFTarget(clang: clang.path, version: clang.version)
        }
        bpftool.version = bpftoolAnswer.first ?? "unknown"
        cc.version = ccAnswer.first ?? "unknown"
        return Toolchain(clang: clang, bpftool: bpftool, cc: cc, clangSystemIncludes: Array(clangAnswer.dropFirst(2)),
                         libbpf: libbpf, arch: arch, vmlinux: try vmlinuxSource())
    }

    var arch: String {
        if let value = environment["ARCH"], !value.isEmpty { return value }
        if let value = project.config.arch { return value }
        return Arch.bpfArch(forMachine: Arch.hostMachine())
    }

    // MARK: Locating tools

    /// The knob (e.g. `CC="ccache cc"`), else the default name on PATH, else the fallbacks.
    func locate(_ role: ToolRole) throws -> Tool {
        let knob = role.knob
        var words = environment[knob].map(Shell.splitWords) ?? []
        if words.isEmpty { words = [role.defaultName] }
        let program = words[0]
        var tried: [String] = []
        var found: (path: String, display: String)?
        if program.contains("/") {
            let path = FileSystem.absolute(program, base: project.root)
            tried.append(path)
            if FileSystem.isExecutableFile(path) { found = (path, program) }
        } else {
            for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
                let path = FileSystem.join(String(directory), program)
                if FileSystem.isExecutableFile(path) { found = (path, program); break }
            }
            tried.append("\(program) on PATH")
            if found == nil, environment[knob] == nil {
                for path in role.fallbacks {
                    tried.append(path)
                    if FileSystem.isExecutableFile(path) { found = (path, path); break }
                }
            }
        }
        guard let found, let stat = FileSystem.stat(found.path) else {
            throw ToolchainError.toolNotFound(tool: role.rawValue, tried: tried, package: role.package, knob: knob)
        }
        return Tool(role: role, displayName: found.display, path: found.path, leadingArguments: Array(words.dropFirst()),
                    version: "", fingerprint: "\(stat.size):\(stat.mtimeNanoseconds):\(stat.inode)")
    }

    func probeKey(_ tool: Tool) -> String {
        "\(tool.role) \(tool.path) \(tool.leadingArguments.joined(separator: " ")) \(tool.fingerprint)"
    }

    /// A tool's answers from the cache while the executable is unchanged, else from `ask`. Fresh
    /// answers are returned for the caller to store.
    func query(_ tool: Tool, ask: (Tool) async throws -> [String]) async throws -> (key: String, values: [String], fresh: Bool) {
        let key = probeKey(tool)
        if let cached = cachedAnswers[key] { return (key, cached, false) }
        return (key, try await ask(tool), true)
    }

    /// clang's version, whether it has the BPF target ("bpf" or "-"), then its system include dirs.
    static func probeClang(_ tool: Tool) async throws -> [String] {
        async let verbose = ProcessRunner.capture(tool.path, tool.leadingArguments + ["-v", "-E", "-x", "c", "-"])
        async let targets = ProcessRunner.capture(tool.path, tool.leadingArguments + ["-print-targets"])
        let (details, targetList) = try await (verbose, targets)
        let text = String(decoding: details.standardError, as: UTF8.self)
        guard details.status == 0 else {
            throw ToolchainError.toolProbeFailed(tool: "clang", command: Shell.join([tool.path, "-v", "-E", "-x", "c", "-"]), output: text)
        }
        let lines = text.split(separator: "\n").map(String.init)
        let version = lines.first(where: { $0.contains("clang version") }).map(versionWord) ?? "unknown"
        var includes: [String] = []
        var inList = false
        for line in lines {
            if line.hasPrefix("#include <...> search starts here") { inList = true; continue }
            if line.hasPrefix("End of search list") { break }
            if inList {
                // macOS-style framework directories carry a suffix; they do not apply to BPF.
                let directory = line.trimmed([" ", "\t"])
                if !directory.hasSuffix("(framework directory)") { includes.append(directory) }
            }
        }
        let hasBPF = String(decoding: targetList.standardOutput, as: UTF8.self).split(separator: "\n")
            .contains { $0.trimmed([" ", "\t"]).hasPrefix("bpf ") }
        return [version, hasBPF ? "bpf" : "-"] + includes
    }

    static func probeVersion(_ tool: Tool, arguments: [String]) async throws -> [String] {
        let outcome = try await ProcessRunner.capture(tool.path, tool.leadingArguments + arguments)
        let text = String(decoding: outcome.standardOutput + outcome.standardError, as: UTF8.self)
        guard outcome.status == 0, let first = text.split(separator: "\n").first else {
            throw ToolchainError.toolProbeFailed(tool: tool.role.rawValue, command: Shell.join([tool.path] + arguments), output: text)
        }
        return [versionWord(String(first))]
    }

    /// The version in a banner: the word after "version", else the last word with a digit in it
    /// ("cc (Debian 12.2.0-14) 12.2.0" gives 12.2.0; "bpftool v7.1.0" gives 7.1.0).
    static func versionWord(_ line: String) -> String {
        let words = line.split(separator: " ").map(String.init)
        if let index = words.firstIndex(of: "version"), index + 1 < words.count { return words[index + 1] }
        let candidate = words.last(where: { $0.contains(where: \.isNumber) }) ?? line
        return candidate.hasPrefix("v") ? String(candidate.dropFirst()) : candidate
    }

    // MARK: libbpf

    /// Whether libbpf comes from the system, which pkg-config is asked about.
    var needsPkgConfig: Bool {
        (environment["LIBBPF_OBJ"] ?? "").isEmpty && project.config.libbpfArchive == nil
    }

    /// libbpf from LIBBPF_OBJ, the config, or the system (pkg-config's libdir and includedir when
    /// it answered, else the usual library directories).
    func libbpf(pkgConfigAnswer: [String]?) throws -> Libbpf {
        if let archive = environment["LIBBPF_OBJ"], !archive.isEmpty {
            return try explicitLibbpf(archive: archive, include: nil, origin: .libbpfObjKnob)
        }
        if let archive = project.config.libbpfArchive {
            return try explicitLibbpf(archive: archive, include: project.config.libbpfInclude, origin: .config)
        }
        var tried: [String] = []
        if let answer = pkgConfigAnswer, answer.count == 2 {
            let archive = FileSystem.join(answer[0], "libbpf.a")
            tried.append("\(archive) (pkg-config libbpf)")
            if FileSystem.exists(archive) {
                let systemDirectories = ["/usr/include", "/usr/local/include"]
                return Libbpf(archive: archive, includeDirectory: systemDirectories.contains(answer[1]) ? nil : answer[1],
                              origin: .pkgConfig)
            }
        }
        let machine = Arch.hostMachine()
        for directory in ["/usr/lib/\(machine)-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib64", "/usr/local/lib"] {
            let archive = FileSystem.join(directory, "libbpf.a")
            tried.append(archive)
            if FileSystem.exists(archive) { return Libbpf(archive: archive, includeDirectory: nil, origin: .systemLibraryDirectory) }
        }
        throw ToolchainError.libbpfNotFound(tried: tried)
    }

    func explicitLibbpf(archive: String, include: String?, origin: LibbpfOrigin) throws -> Libbpf {
        let path = FileSystem.absolute(archive, base: project.root)
        guard FileSystem.exists(path) else { throw ToolchainError.libbpfNotFound(tried: ["\(path) (\(origin))"]) }
        if let include { return Libbpf(archive: path, includeDirectory: FileSystem.absolute(include, base: project.root), origin: origin) }
        // A libbpf built from source installs its headers as bpf/*.h beside the archive or under include/.
        let directory = FileSystem.split(path).directory
        for candidate in [directory, FileSystem.join(directory, "include")]
        where FileSystem.exists(FileSystem.join(candidate, "bpf/libbpf.h")) {
            return Libbpf(archive: path, includeDirectory: candidate, origin: origin)
        }
        return Libbpf(archive: path, includeDirectory: nil, origin: origin)
    }

    /// pkg-config, with the variables that steer it folded into its identity, so that its cached
    /// answer about libbpf is dropped when they change.
    func pkgConfigTool() -> Tool? {
        guard var tool = try? locate(.pkgConfig) else {
            return nil
        }
        let steering = ["PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"].map { environment[$0] ?? "" }
        tool.fingerprint += " " + steering.joined(separator: ":")
        return tool
    }

    // MARK: vmlinux.h

    func vmlinuxSource() throws -> VmlinuxSource {
        var choice: (value: String, origin: VmlinuxOrigin)?
        if let value = environment["VMLINUX"], !value.isEmpty { choice = (value, .knob) }
        else if let value = project.config.vmlinux { choice = (value, .config) }
        if let (value, origin) = choice, value != "kernel" {
            let path = FileSystem.absolute(value, base: project.root)
            guard FileSystem.exists(path) else { throw ToolchainError.vmlinuxSourceMissing(path: value, origin: origin.description) }
            return value.hasSuffix(".h") ? .header(path: path, origin: origin) : .btf(path: path, origin: origin)
        }
        if choice == nil, let local = project.localVmlinuxHeader {
            return .header(path: FileSystem.join(project.root, local), origin: .projectDirectory)
        }
        guard FileSystem.exists(kernelBTF) else { throw ToolchainError.noVmlinuxSource(btfPath: kernelBTF) }
        return .btf(path: kernelBTF, origin: .runningKernel)
    }
}
