import FoundationEssentials
import TOMLKit

/// The optional `swbpf.toml`. Every key is optional; unknown keys and wrong types are errors that
/// name the file, the line and the key.
public struct ProjectConfig: Equatable, Sendable {
    public static let fileName = "swbpf.toml"

    public var output: String?
    public var binaryDirectory: String?
    public var arch: String?
    public var vmlinux: String?
    public var includeDirectories: [String] = []
    public var cflags: [String] = []
    public var bpfCflags: [String] = []
    public var ldflags: [String] = []
    public var libs: [String] = []
    public var sharedSources: [String] = []
    public var onlyApps: [String]?
    public var skipApps: [String] = []
    public var compileCommands = false
    public var libbpfArchive: String?
    public var libbpfInclude: String?
    public var apps: [String: AppConfig] = [:]
    /// Where each `[app.NAME]` table starts, for errors about apps that do not exist.
    public var appLines: [String: Int] = [:]

    public struct AppConfig: Equatable, Sendable {
        public var sources: [String] = []
        public var bpfSources: [String] = []
        public var cflags: [String] = []
        public var bpfCflags: [String] = []
        public var ldflags: [String] = []
        public var libs: [String] = []
        public init() {}
    }

    public init() {}

    static let topLevelKeys = ["output", "bin", "arch", "vmlinux", "include", "cflags", "bpf-cflags", "ldflags",
                               "libs", "sources", "apps", "skip", "compdb", "libbpf", "app"]
    static let libbpfKeys = ["archive", "include"]
    static let appKeys = ["sources", "bpf-sources", "cflags", "bpf-cflags", "ldflags", "libs"]

    /// Parses the text of a config file. `file` is the name used in error messages.
    public static func parse(_ text: String, file: String) throws -> ProjectConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw SwbpfError.configSyntax(file: file, line: error.source.begin.line, column: error.source.begin.column,
                                          message: error.description)
        }
        let lines = KeyLocator(text: text)
        let reader = Reader(file: file, lines: lines)
        var config = ProjectConfig()

        try reader.checkKeys(table, allowed: topLevelKeys, section: [])
        config.output = try reader.string(table, "output", section: [])
        config.binaryDirectory = try reader.string(table, "bin", section: [])
        config.arch = try reader.string(table, "arch", section: [])
        config.vmlinux = try reader.string(table, "vmlinux", section: [])
        config.includeDirectories = try reader.strings(table, "include", section: [])
        config.cflags = try reader.strings(table, "cflags", section: [])
        config.bpfCflags = try reader.strings(table, "bpf-cflags", section: [])
        config.ldflags = try reader.strings(table, "ldflags", section: [])
        config.libs = try reader.strings(table, "libs", section: [])
        config.sharedSources = try reader.strings(table, "sources", section: [])
        if table.contains(key: "apps") { config.onlyApps = try reader.strings(table, "apps", section: []) }
        config.skipApps = try reader.strings(table, "skip", section: [])
        config.compileCommands = try reader.bool(table, "compdb", section: []) ?? false

        if let libbpf = try reader.table(table, "libbpf", section: []) {
            try reader.checkKeys(libbpf, allowed: libbpfKeys, section: ["libbpf"])
            config.libbpfArchive = try reader.string(libbpf, "archive", section: ["libbpf"])
            config.libbpfInclude = try reader.string(libbpf, "include", section: ["libbpf"])
        }
        if let apps = try reader.table(table, "app", section: []) {
            for name in apps.keys.sorted() {
                let section = ["app", name]
                guard let app = apps[name]?.table else {
                    throw SwbpfError.configWrongType(file: file, line: lines.line(of: name, in: ["app"]),
                                                     key: "app.\(name)", expected: "a table ([app.\(name)])")
                }
                try reader.checkKeys(app, allowed: appKeys, section: section)
                var appConfig = AppConfig()
                appConfig.sources = try reader.strings(app, "sources", section: section)
                appConfig.bpfSources = try reader.strings(app, "bpf-sources", section: section)
                appConfig.cflags = try reader.strings(app, "cflags", section: section)
                appConfig.bpfCflags = try reader.strings(app, "bpf-cflags", section: section)
                appConfig.ldflags = try reader.strings(app, "ldflags", section: section)
                appConfig.libs = try reader.strings(app, "libs", section: section)
                config.apps[name] = appConfig
                config.appLines[name] = lines.headerLine(of: section)
            }
        }
        return config
    }

    /// Reads typed values and turns every mismatch into an error with a line number.
    private struct Reader {
        let file: String
        let lines: KeyLocator

        func qualified(_ key: String, _ section: [String]) -> String { (section + [key]).joined(separator: ".") }

        func checkKeys(_ table: TOMLTable, allowed: [String], section: [String]) throws {
            for key in table.keys where !allowed.contains(key) {
                throw SwbpfError.configUnknownKey(file: file, line: lines.line(of: key, in: section),
                                                  key: qualified(key, section), known: allowed)
            }
        }

        func string(_ table: TOMLTable, _ key: String, section: [String]) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else { throw wrongType(key, section, "a string") }
            return text
        }

        func bool(_ table: TOMLTable, _ key: String, section: [String]) throws -> Bool? {
            guard let value = table[key] else { return nil }
            guard let flag = value.bool else { throw wrongType(key, section, "true or false") }
            return flag
        }

        func strings(_ table: TOMLTable, _ key: String, section: [String]) throws -> [String] {
            guard let value = table[key] else { return [] }
            guard let array = value.array else { throw wrongType(key, section, "a list of strings") }
            return try array.map { element in
                guard let text = element.string else { throw wrongType(key, section, "a list of strings") }
                return text
            }
        }

        func table(_ table: TOMLTable, _ key: String, section: [String]) throws -> TOMLTable? {
            guard let value = table[key] else { return nil }
            guard let inner = value.table else { throw wrongType(key, section, "a table ([\(qualified(key, section))])") }
            return inner
        }

        func wrongType(_ key: String, _ section: [String], _ expected: String) -> SwbpfError {
            .configWrongType(file: file, line: lines.line(of: key, in: section), key: qualified(key, section), expected: expected)
        }
    }
}

/// Finds the line a key was written on. TOMLKit gives values without positions, so this scans the
/// text for `key =` below the right `[section]` header (dotted and quoted keys included).
struct KeyLocator {
    private var entries: [(section: [String], key: String, line: Int)] = []
    private var headers: [(section: [String], line: Int)] = []

    init(text: String) {
        var section: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed([" ", "\t"])
            if line.hasPrefix("[") {
                let inner = line.trimmed(["[", "]", " ", "\t"])
                    .split(separator: "#").first.map(String.init) ?? ""
                section = KeyLocator.parts(inner.trimmed(["]", " ", "\t"]))
                headers.append((section, index + 1))
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let keyParts = KeyLocator.parts(String(line[..<equals]))
                for depth in 1...max(1, keyParts.count) {
                    entries.append((section + keyParts.prefix(depth - 1), keyParts[depth - 1], index + 1))
                }
            }
        }
    }

    static func parts(_ dotted: String) -> [String] {
        dotted.split(separator: ".").map {
            $0.trimmed([" ", "\t"]).trimmed(["\"", "'"])
        }
    }

    func line(of key: String, in section: [String]) -> Int {
        if let entry = entries.first(where: { $0.section == section && $0.key == key }) { return entry.line }
        if let header = headers.first(where: { $0.section == section + [key] }) { return header.line }
        return headerLine(of: section)
    }

    func headerLine(of section: [String]) -> Int {
        headers.first(where: { $0.section == section })?.line ?? 1
    }
}
