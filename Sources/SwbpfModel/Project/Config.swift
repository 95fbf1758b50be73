import SwbpfBasics

/// The optional `swbpf.toml`. Every key is optional; unknown keys and wrong types are errors that
/// name the file, the line and the key.
public struct ProjectConfig: Equatable, Sendable {
    public static let fileName = "swbpf.toml"
    /// A project's settings fit in a few lines; anything near this size is the wrong file.
    public static let maximumFileSize = 1 << 20

    public var output: String?
    public var binaryDirectory: String?
    /// The lines of `output` and `bin`, for the error that refuses a directory swbpf may not build in.
    public var outputLine = 0
    public var binaryDirectoryLine = 0
    public var arch: String?
    /// The line of `arch`, for the error that refuses an unknown one.
    public var archLine = 0
    /// `static = true`: fully static binaries.
    public var staticLink = false
    public var vmlinux: String?
    public var includeDirectories: [String] = []
    public var cflags: [String] = []
    public var bpfCflags: [String] = []
    public var ldflags: [String] = []
    public var libs: [String] = []
    /// `swift-flags`: extra words for every Swift app's swiftc compile.
    public var swiftFlags: [String] = []
    /// `swift-debug`: build Swift apps for debugging (-Onone -g, the dynamic standard library).
    public var swiftDebug: Bool?
    public var sharedSources: [String] = []
    public var onlyApps: [String]?
    public var skipApps: [String] = []
    /// `also`: apps built by default even though swbpf would leave them out (an optional library
    /// it cannot find), without listing every other app in `apps`.
    public var alsoApps: [String] = []
    /// The line of `also`, for the error that names an app that does not exist.
    public var alsoLine = 0
    /// `skeleton`: the file name of each generated skeleton, `{name}` standing for the kernel
    /// part's name (`{name}.bpf.skel.h`); the default is libbpf-bootstrap's `{name}.skel.h`.
    public var skeletonPattern: String?
    public var compileCommands = false
    public var libbpfArchive: String?
    public var libbpfInclude: String?
    /// `[libbpf] source`: a libbpf source tree to build, or "system".
    public var libbpfSource: String?
    /// `[bpftool] source`: a bpftool source tree to build, or "system".
    public var bpftoolSource: String?
    /// `[bpftool] path`: the bpftool program to run.
    public var bpftoolPath: String?
    public var cache = CacheConfig()
    /// `[verify] kernels`: the kernels `swbpf verify` checks the programs against when no
    /// `--kernel` is given (Debian versions or files).
    public var verifyKernels: [String] = []
    public var apps: [String: AppConfig] = [:]
    /// Where each `[app.NAME]` table starts, for errors about apps that do not exist.
    public var appLines: [String: Int] = [:]
    /// `[program.NAME]`: user-space programs with no kernel part, built beside the apps.
    public var programs: [String: ProgramConfig] = [:]
    public var programLines: [String: Int] = [:]

    public struct AppConfig: Equatable, Sendable {
        public var sources: [String] = []
        public var bpfSources: [String] = []
        public var cflags: [String] = []
        public var bpfCflags: [String] = []
        public var ldflags: [String] = []
        public var libs: [String] = []
        /// Other names for the binary, made as symbolic links beside it.
        public var aliases: [String] = []
        /// `btf-for`: kernels without BTF of their own (Debian versions or files, as `verify
        /// --kernel` takes them) the app carries a small BTF for (`bpftool gen min_core_btf`).
        public var btfFor: [String] = []
        public var swiftFlags: [String] = []
        /// `bpf`: the app's kernel parts, each compiled into its own object with its own skeleton
        /// (instead of NAME.bpf.c); empty for the default.
        public var kernelParts: [String] = []
        /// `skeleton`: this app's skeleton file name pattern, over the project's.
        public var skeletonPattern: String?
        public init() {}
    }

    /// `[program.NAME]`: a user-space program with no kernel part (a traced `victim.c`, a tool that
    /// uses libbpf on maps another app pinned).
    public struct ProgramConfig: Equatable, Sendable {
        public var sources: [String] = []
        public var cflags: [String] = []
        public var ldflags: [String] = []
        public var libs: [String] = []
        /// `libbpf = true`: link libbpf (and what it needs) into the program.
        public var linksLibbpf = false
        public init() {}
    }

    /// `[cache]`: the shared build cache (secrets such as tokens are environment-only).
    public struct CacheConfig: Equatable, Sendable {
        public var enabled = true
        public var remote: String?
        public var remoteReadOnly = false
        public var maxSize: String?
        public init() {}
    }

    public init() {}

    package static let topLevelKeys = ["output", "bin", "arch", "vmlinux", "include", "cflags", "bpf-cflags", "ldflags",
                               "libs", "sources", "apps", "skip", "compdb", "static", "libbpf", "bpftool", "app", "cache",
                               "swift-flags", "swift-debug", "also", "skeleton", "program", "verify"]
    package static let libbpfKeys = ["source", "archive", "include"]
    package static let bpftoolKeys = ["source", "path"]
    package static let verifyKeys = ["kernels"]
    package static let cacheKeys = ["enabled", "remote", "remote-read-only", "max-size"]
    package static let appKeys = ["sources", "bpf-sources", "cflags", "bpf-cflags", "ldflags", "libs", "aliases", "swift-flags", "bpf", "skeleton", "btf-for"]
    package static let programKeys = ["sources", "cflags", "ldflags", "libs", "libbpf"]

    /// Parses the text of a config file. `file` is the name used in error messages.
    public static func parse(_ text: String, file: String) throws -> ProjectConfig {
        try parse(Array(text.utf8), file: file)
    }

    /// Parses the bytes of a config file: invalid UTF-8 is an error with its position, not text
    /// silently replaced.
    public static func parse(_ bytes: [UInt8], file: String) throws -> ProjectConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(parsing: bytes)
        } catch {
            throw ConfigError.syntax(file: file, line: error.position.line, column: error.position.column,
                                          message: error.message)
        }
        let reader = Reader(file: file)
        var config = ProjectConfig()

        try reader.checkKeys(table, allowed: topLevelKeys, section: [])
        config.output = try reader.string(table, "output", section: [])
        config.binaryDirectory = try reader.string(table, "bin", section: [])
        config.outputLine = table.entry("output")?.keyPosition.line ?? 0
        config.binaryDirectoryLine = table.entry("bin")?.keyPosition.line ?? 0
        config.arch = try reader.string(table, "arch", section: [])
        config.archLine = table.entry("arch")?.keyPosition.line ?? 0
        config.staticLink = try reader.bool(table, "static", section: []) ?? false
        config.vmlinux = try reader.string(table, "vmlinux", section: [])
        config.includeDirectories = try reader.strings(table, "include", section: [])
        config.cflags = try reader.strings(table, "cflags", section: [])
        config.bpfCflags = try reader.strings(table, "bpf-cflags", section: [])
        config.ldflags = try reader.strings(table, "ldflags", section: [])
        config.libs = try reader.strings(table, "libs", section: [])
        config.sharedSources = try reader.strings(table, "sources", section: [])
        config.swiftFlags = try reader.strings(table, "swift-flags", section: [])
        config.swiftDebug = try reader.bool(table, "swift-debug", section: [])
        if table.contains(key: "apps") { config.onlyApps = try reader.strings(table, "apps", section: []) }
        config.skipApps = try reader.strings(table, "skip", section: [])
        config.alsoApps = try reader.strings(table, "also", section: [])
        config.alsoLine = table.entry("also")?.keyPosition.line ?? 0
        config.skeletonPattern = try reader.skeletonPattern(table, section: [])
        config.compileCommands = try reader.bool(table, "compdb", section: []) ?? false

        if let libbpf = try reader.table(table, "libbpf", section: []) {
            try reader.checkKeys(libbpf, allowed: libbpfKeys, section: ["libbpf"])
            config.libbpfArchive = try reader.string(libbpf, "archive", section: ["libbpf"])
            config.libbpfInclude = try reader.string(libbpf, "include", section: ["libbpf"])
            config.libbpfSource = try reader.string(libbpf, "source", section: ["libbpf"])
            if config.libbpfSource != nil, let entry = libbpf.entry("archive") ?? libbpf.entry("include") {
                throw ConfigError.invalidValue(file: file, line: entry.keyPosition.line, key: "libbpf.\(entry.key)",
                                                    message: "[libbpf] source builds libbpf from a tree, so it cannot be given with archive or include: keep one of them")
            }
        }
        if let bpftool = try reader.table(table, "bpftool", section: []) {
            try reader.checkKeys(bpftool, allowed: bpftoolKeys, section: ["bpftool"])
            config.bpftoolSource = try reader.string(bpftool, "source", section: ["bpftool"])
            config.bpftoolPath = try reader.string(bpftool, "path", section: ["bpftool"])
            if config.bpftoolSource != nil, let entry = bpftool.entry("path") {
                throw ConfigError.invalidValue(file: file, line: entry.keyPosition.line, key: "bpftool.path",
                                                    message: "[bpftool] source and path both choose bpftool: keep one of them")
            }
        }
        if let cache = try reader.table(table, "cache", section: []) {
            try reader.checkKeys(cache, allowed: cacheKeys, section: ["cache"])
            config.cache.enabled = try reader.bool(cache, "enabled", section: ["cache"]) ?? true
            config.cache.remote = try reader.string(cache, "remote", section: ["cache"])
            config.cache.remoteReadOnly = try reader.bool(cache, "remote-read-only", section: ["cache"]) ?? false
            config.cache.maxSize = try reader.string(cache, "max-size", section: ["cache"])
        }
        if let verify = try reader.table(table, "verify", section: []) {
            try reader.checkKeys(verify, allowed: verifyKeys, section: ["verify"])
            config.verifyKernels = try reader.strings(verify, "kernels", section: ["verify"])
        }
        for (name, app) in try reader.namedTables(table, "app", allowed: appKeys) {
            let section = ["app", name]
            var appConfig = AppConfig()
            appConfig.sources = try reader.strings(app, "sources", section: section)
            appConfig.bpfSources = try reader.strings(app, "bpf-sources", section: section)
            appConfig.cflags = try reader.strings(app, "cflags", section: section)
            appConfig.bpfCflags = try reader.strings(app, "bpf-cflags", section: section)
            appConfig.ldflags = try reader.strings(app, "ldflags", section: section)
            appConfig.libs = try reader.strings(app, "libs", section: section)
            appConfig.aliases = try reader.strings(app, "aliases", section: section)
            appConfig.btfFor = try reader.strings(app, "btf-for", section: section)
            if let empty = appConfig.btfFor.first(where: { $0.trimmed().isEmpty }) {
                throw ConfigError.invalidValue(file: file, line: app.entry("btf-for")?.keyPosition.line ?? app.position.line,
                                               key: "app.\(name).btf-for",
                                               message: "'\(empty)' names no kernel: give a Debian version (\"6.1\") or a kernel file (a .deb, a vmlinuz, an ELF vmlinux or a BTF file)")
            }
            appConfig.swiftFlags = try reader.strings(app, "swift-flags", section: section)
            appConfig.kernelParts = try reader.strings(app, "bpf", section: section)
            appConfig.skeletonPattern = try reader.skeletonPattern(app, section: section)
            if let entry = app.entry("bpf") {
                if appConfig.kernelParts.isEmpty {
                    throw ConfigError.invalidValue(file: file, line: entry.keyPosition.line, column: entry.keyPosition.column, key: "app.\(name).bpf",
                                                   message: "the list is empty: name the app's kernel parts (\"\(name).bpf.c\"), or remove the key to use \(name).bpf.c")
                }
                if let other = app.entry("bpf-sources") {
                    throw ConfigError.invalidValue(file: file, line: other.keyPosition.line, column: other.keyPosition.column, key: "app.\(name).bpf-sources",
                                                   message: "bpf-sources links more kernel sources into NAME.bpf.c's object, and bpf gives the app its kernel parts: keep one of them")
                }
            }
            for alias in appConfig.aliases where alias.isEmpty || alias.contains("/") || alias == "." || alias == ".." {
                throw ConfigError.invalidValue(file: file, line: app.entry("aliases")?.keyPosition.line ?? app.position.line,
                                                    key: "app.\(name).aliases", message: "'\(alias)' is not a file name: an alias is a name for the binary in the same directory")
            }
            config.apps[name] = appConfig
            config.appLines[name] = app.position.line
        }
        for (name, program) in try reader.namedTables(table, "program", allowed: programKeys) {
            let section = ["program", name]
            if config.apps[name] != nil {
                throw ConfigError.invalidValue(file: file, line: program.position.line, column: program.position.column, key: "program.\(name)",
                                               message: "\(name) is also an [app.\(name)]: one binary cannot be both; rename one of them")
            }
            var settings = ProgramConfig()
            settings.sources = try reader.strings(program, "sources", section: section)
            settings.cflags = try reader.strings(program, "cflags", section: section)
            settings.ldflags = try reader.strings(program, "ldflags", section: section)
            settings.libs = try reader.strings(program, "libs", section: section)
            settings.linksLibbpf = try reader.bool(program, "libbpf", section: section) ?? false
            if settings.sources.isEmpty {
                throw ConfigError.invalidValue(file: file, line: program.position.line, column: program.position.column, key: "program.\(name).sources",
                                               message: "a program needs its sources: sources = [\"\(name).c\"]")
            }
            config.programs[name] = settings
            config.programLines[name] = program.position.line
        }
        return config
    }

    /// Reads typed values and turns every mismatch into an error on the line of the key (or of the
    /// offending list element).
    struct Reader {
        let file: String

        func qualified(_ key: String, _ section: [String]) -> String { (section + [key]).joined(separator: ".") }

        /// The first unknown key in the order the file gives them.
        func checkKeys(_ table: TOMLTable, allowed: [String], section: [String]) throws {
            for entry in table.entries where !allowed.contains(entry.key) {
                throw ConfigError.unknownKey(file: file, line: entry.keyPosition.line,
                                                  key: qualified(entry.key, section), known: allowed)
            }
        }

        func string(_ table: TOMLTable, _ key: String, section: [String]) throws -> String? {
            guard let entry = table.entry(key) else { return nil }
            guard let text = entry.value.string else { throw wrongType(entry, section, "a string") }
            return text
        }

        func bool(_ table: TOMLTable, _ key: String, section: [String]) throws -> Bool? {
            guard let entry = table.entry(key) else { return nil }
            guard let flag = entry.value.boolean else { throw wrongType(entry, section, "true or false") }
            return flag
        }

        func strings(_ table: TOMLTable, _ key: String, section: [String]) throws -> [String] {
            guard let entry = table.entry(key) else { return [] }
            guard let array = entry.value.array else { throw wrongType(entry, section, "a list of strings") }
            return try array.map { element in
                guard let text = element.string else {
                    throw wrongType(entry, section, "a list of strings", line: element.position.line)
                }
                return text
            }
        }

        /// `skeleton`: a file name (no directory) with `{name}` in it, so that two kernel parts never
        /// share one skeleton.
        func skeletonPattern(_ table: TOMLTable, section: [String]) throws -> String? {
            guard let pattern = try string(table, "skeleton", section: section), let entry = table.entry("skeleton") else { return nil }
            let problem: String? = if !pattern.contains("{name}") {
                "'\(pattern)' has no {name}: every kernel part needs its own skeleton; for example \"{name}.bpf.skel.h\""
            } else if pattern.contains("/") {
                "'\(pattern)' is not a file name: skeletons are written in the output directory, which -I finds; leave out the directory"
            } else if !pattern.hasSuffix(".h") {
                "'\(pattern)' does not end in .h: it is a header the user part includes"
            } else { nil }
            if let problem {
                throw ConfigError.invalidValue(file: file, line: entry.keyPosition.line, column: entry.keyPosition.column,
                                               key: qualified("skeleton", section), message: problem)
            }
            return pattern
        }

        /// The `[KEY.NAME]` tables (`[app.x]`, `[program.y]`), each checked for keys outside `allowed`.
        func namedTables(_ table: TOMLTable, _ key: String, allowed: [String]) throws -> [(name: String, table: TOMLTable)] {
            guard let outer = try self.table(table, key, section: []) else { return [] }
            return try outer.entries.map { entry in
                guard let inner = entry.value.table else {
                    throw ConfigError.wrongType(file: file, line: entry.keyPosition.line,
                                                key: "\(key).\(entry.key)", expected: "a table ([\(key).\(entry.key)])")
                }
                try checkKeys(inner, allowed: allowed, section: [key, entry.key])
                return (entry.key, inner)
            }
        }

        func table(_ table: TOMLTable, _ key: String, section: [String]) throws -> TOMLTable? {
            guard let entry = table.entry(key) else { return nil }
            guard let inner = entry.value.table else {
                throw wrongType(entry, section, "a table ([\(qualified(key, section))])")
            }
            return inner
        }

        func wrongType(_ entry: TOMLTable.Entry, _ section: [String], _ expected: String, line: Int? = nil) -> ConfigError {
            .wrongType(file: file, line: line ?? entry.keyPosition.line, key: qualified(entry.key, section), expected: expected)
        }
    }
}
