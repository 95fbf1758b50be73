import SwbpfBasics
import SwbpfModel

/// How a build uses the shared cache, from the environment and swbpf.toml's `[cache]` table (the
/// environment wins). Resolving it reads no file and starts nothing, so a build pays for the cache
/// only when it looks something up.
public struct CacheSettings: Sendable, Equatable {
    /// The local cache's directory: `SWBPF_CACHE_DIR`, else `$XDG_CACHE_HOME/swbpf`, else
    /// `~/.cache/swbpf`.
    public var directory: String
    /// Least recently used files go once the local cache is larger than this.
    public var sizeLimit: Int64
    public var remote: RemoteCacheSettings?

    public static let defaultSizeLimit: Int64 = 5 << 30
    public static let defaultTimeoutSeconds = 10.0

    /// The settings, or nil when the cache is off (`--no-cache`, `enabled = false`, `SWBPF_CACHE=0`).
    /// A malformed value is an error that names where it came from.
    public static func resolve(environment: [String: String], config: ProjectConfig, disabled: Bool) throws -> CacheSettings? {
        if disabled { return nil }
        if let value = environment["SWBPF_CACHE"] {
            guard let enabled = boolean(value) else { throw CacheError.badSetting(name: "SWBPF_CACHE", value: value, expected: "1 or 0") }
            if !enabled { return nil }
        } else if !config.cache.enabled {
            return nil
        }
        guard let directory = localDirectory(environment: environment) else { throw CacheError.noCacheDirectory }
        return CacheSettings(directory: directory, sizeLimit: try sizeLimit(environment: environment, config: config),
                             remote: try remote(environment: environment, config: config))
    }

    /// `SWBPF_CACHE_MAX_SIZE`, else swbpf.toml's `max-size`, else the default.
    public static func sizeLimit(environment: [String: String], config: ProjectConfig) throws -> Int64 {
        guard let text = environment["SWBPF_CACHE_MAX_SIZE"] ?? config.cache.maxSize else { return defaultSizeLimit }
        let name = environment["SWBPF_CACHE_MAX_SIZE"] != nil ? "SWBPF_CACHE_MAX_SIZE" : "swbpf.toml [cache] max-size"
        guard let bytes = size(text) else { throw CacheError.badSetting(name: name, value: text, expected: "a size such as 500M or 5G") }
        return bytes
    }

    /// The local directory alone (for `swbpf cache`), whatever else is configured.
    public static func localDirectory(environment: [String: String]) -> String? {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let directory = nonEmpty("SWBPF_CACHE_DIR") { return FileSystem.absolute(directory, base: FileSystem.currentDirectory()) }
        if let base = nonEmpty("XDG_CACHE_HOME"), base.hasPrefix("/") { return FileSystem.join(base, "swbpf") }
        if let home = nonEmpty("HOME") { return FileSystem.join(FileSystem.join(home, ".cache"), "swbpf") }
        return nil
    }

    /// The remote, from SWBPF_REMOTE_CACHE, else the user's config, else the project's swbpf.toml.
    /// The user's credentials (SWBPF_REMOTE_CACHE_TOKEN, SWBPF_REMOTE_CACHE_HEADER) go only to a
    /// remote the user named, or one whose origin the user's config trusts: a cloned project must
    /// not be able to send them to a server of its choosing. A remote only the project names is
    /// read-only unless the user trusts its origin, since whoever writes a remote poisons its readers.
    package static func remote(environment: [String: String], config: ProjectConfig) throws -> RemoteCacheSettings? {
        let user = try UserConfig.load(environment: environment)
        let namedBy: RemoteCacheSettings.NamedBy
        let url: String
        if let value = environment["SWBPF_REMOTE_CACHE"] { (url, namedBy) = (value, .environment) }
        else if let value = user.remote { (url, namedBy) = (value, .userConfig(file: user.file ?? "")) }
        else if let value = config.cache.remote { (url, namedBy) = (value, .project) }
        else { return nil }
        guard !url.isEmpty else { return nil }
        guard let address = HTTPAddress(url) else {
            throw CacheError.badSetting(name: namedBy.setting, value: HTTPAddress.redacted(url),
                                        expected: "an http:// or https:// URL without user, password, query or fragment")
        }
        var trusted: Set<String> = []
        for origin in user.trustedRemotes {
            guard let trustedAddress = HTTPAddress(origin) else {
                throw CacheError.badSetting(name: "\(user.file ?? "") [cache] trusted-remotes", value: HTTPAddress.redacted(origin),
                                            expected: "an http:// or https:// origin such as https://cache.example.com")
            }
            trusted.insert(trustedAddress.origin)
        }
        let userChose = namedBy != .project || trusted.contains(address.origin)
        var readOnly = config.cache.remoteReadOnly || user.remoteReadOnly == true || !userChose
        if let value = environment["SWBPF_REMOTE_CACHE_READ_ONLY"] {
            guard let flag = boolean(value) else { throw CacheError.badSetting(name: "SWBPF_REMOTE_CACHE_READ_ONLY", value: value, expected: "1 or 0") }
            readOnly = flag
        }
        var headers: [RemoteCacheSettings.Header] = []
        // Secrets come from the environment only: swbpf.toml is usually committed.
        if let token = environment["SWBPF_REMOTE_CACHE_TOKEN"], !token.isEmpty {
            guard !token.contains(where: \.isNewline) else {
                throw CacheError.badSetting(name: "SWBPF_REMOTE_CACHE_TOKEN", value: "(hidden)", expected: "a token on one line")
            }
            headers.append(.init(name: "Authorization", value: "Bearer \(token)"))
        }
        if let header = environment["SWBPF_REMOTE_CACHE_HEADER"], !header.isEmpty {
            guard let colon = header.firstIndex(of: ":"), !header.contains(where: \.isNewline),
                  !header[..<colon].isEmpty, !header[..<colon].contains(" ") else {
                throw CacheError.badSetting(name: "SWBPF_REMOTE_CACHE_HEADER", value: String(header.prefix { $0 != ":" }) + ": …",
                                  expected: "'Name: value' on one line")
            }
            headers.append(.init(name: String(header[..<colon]), value: header[header.index(after: colon)...].trimmed([" ", "\t"])))
        }
        let withheld = !userChose && !headers.isEmpty
        var timeout = defaultTimeoutSeconds
        if let value = environment["SWBPF_REMOTE_CACHE_TIMEOUT"] {
            guard let seconds = Double(value), seconds > 0, seconds <= 600 else {
                throw CacheError.badSetting(name: "SWBPF_REMOTE_CACHE_TIMEOUT", value: value, expected: "seconds, more than 0 and at most 600")
            }
            timeout = seconds
        }
        return RemoteCacheSettings(url: url, address: address, readOnly: readOnly, headers: withheld ? [] : headers,
                                   timeoutSeconds: timeout, namedBy: namedBy, credentialsWithheld: withheld)
    }

    package static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: return nil
        }
    }

    /// `500M`, `5G`, `1048576`: bytes.
    package static func size(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.trimmed([" "]).uppercased()
        if digits.hasSuffix("B") { digits.removeLast() }
        var multiplier: Int64 = 1
        if let last = digits.last, let unit = units[last] { multiplier = unit; digits.removeLast() }
        guard let value = Int64(digits), value > 0, value <= Int64.max / multiplier else { return nil }
        return value * multiplier
    }

    package init(directory: String, sizeLimit: Int64, remote: RemoteCacheSettings? = nil) {
        self.directory = directory
        self.sizeLimit = sizeLimit
        self.remote = remote
    }
}
