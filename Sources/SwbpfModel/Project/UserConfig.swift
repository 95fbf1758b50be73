import SwbpfBasics

/// The user's own settings: `$XDG_CONFIG_HOME/swbpf/config.toml`, else `~/.config/swbpf/config.toml`.
/// What a cloned project's swbpf.toml must not decide for the user is decided here: which remote
/// cache gets the user's credentials, and which may be written.
///
///     [cache]
///     remote = "https://cache.example.com/swbpf"     # the user's remote (SWBPF_REMOTE_CACHE wins)
///     remote-read-only = false
///     trusted-remotes = ["https://ci.example.com"]   # origins a project's remote may have: credentials and uploads
public struct UserConfig: Equatable, Sendable {
    /// The file, as it is printed.
    public var file: String?
    public var remote: String?
    public var remoteReadOnly: Bool?
    /// Remote origins (`scheme://host[:port]`) a project file may name and still get credentials.
    public var trustedRemotes: [String] = []

    public init() {}

    package static let cacheKeys = ["remote", "remote-read-only", "trusted-remotes"]

    /// Where the user's config is, whether it exists or not; nil without HOME and XDG_CONFIG_HOME.
    public static func path(environment: [String: String]) -> String? {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return FileSystem.join(base, "swbpf/config.toml") }
        if let home = environment["HOME"], !home.isEmpty { return FileSystem.join(home, ".config/swbpf/config.toml") }
        return nil
    }

    /// The user's config, empty when there is none; a malformed one is an error naming it.
    public static func load(environment: [String: String]) throws -> UserConfig {
        guard let path = path(environment: environment), FileSystem.exists(path) else { return UserConfig() }
        return try parse(ProjectLoader.readConfigFile(path), file: path)
    }

    public static func parse(_ bytes: [UInt8], file: String) throws -> UserConfig {
        let table: TOMLTable
        do { table = try TOMLTable(parsing: bytes) } catch {
            throw ConfigError.syntax(file: file, line: error.position.line, column: error.position.column, message: error.message)
        }
        let reader = ProjectConfig.Reader(file: file)
        try reader.checkKeys(table, allowed: ["cache"], section: [])
        var config = UserConfig()
        config.file = file
        if let cache = try reader.table(table, "cache", section: []) {
            try reader.checkKeys(cache, allowed: cacheKeys, section: ["cache"])
            config.remote = try reader.string(cache, "remote", section: ["cache"])
            config.remoteReadOnly = try reader.bool(cache, "remote-read-only", section: ["cache"])
            config.trustedRemotes = try reader.strings(cache, "trusted-remotes", section: ["cache"])
        }
        return config
    }
}
