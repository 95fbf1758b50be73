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
        var sizeLimit = defaultSizeLimit
        if let text = environment["SWBPF_CACHE_MAX_SIZE"] ?? config.cache.maxSize {
            let name = environment["SWBPF_CACHE_MAX_SIZE"] != nil ? "SWBPF_CACHE_MAX_SIZE" : "swbpf.toml [cache] max-size"
            guard let bytes = size(text) else { throw CacheError.badSetting(name: name, value: text, expected: "a size such as 500M or 5G") }
            sizeLimit = bytes
        }
        return CacheSettings(directory: directory, sizeLimit: sizeLimit, remote: try remote(environment: environment, config: config))
    }

    /// The local directory alone (for `swbpf cache`), whatever else is configured.
    public static func localDirectory(environment: [String: String]) -> String? {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let directory = nonEmpty("SWBPF_CACHE_DIR") { return FileSystem.absolute(directory, base: FileSystem.currentDirectory()) }
        if let base = nonEmpty("XDG_CACHE_HOME"), base.hasPrefix("/") { return FileSystem.join(base, "swbpf") }
        if let home = nonEmpty("HOME") { return FileSystem.join(FileSystem.join(home, ".cache"), "swbpf") }
        return nil
    }

    package static func remote(environment: [String: String], config: ProjectConfig) throws -> RemoteCacheSettings? {
        let fromEnvironment = environment["SWBPF_REMOTE_CACHE"]
        guard let url = fromEnvironment ?? config.cache.remote, !url.isEmpty else { return nil }
        let source = fromEnvironment != nil ? "SWBPF_REMOTE_CACHE" : "swbpf.toml [cache] remote"
        guard let address = HTTPAddress(url) else {
            throw CacheError.badSetting(name: source, value: url, expected: "an http:// or https:// URL without user, query or fragment")
        }
        var readOnly = config.cache.remoteReadOnly
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
        var timeout = defaultTimeoutSeconds
        if let value = environment["SWBPF_REMOTE_CACHE_TIMEOUT"] {
            guard let seconds = Double(value), seconds > 0, seconds <= 600 else {
                throw CacheError.badSetting(name: "SWBPF_REMOTE_CACHE_TIMEOUT", value: value, expected: "seconds, more than 0 and at most 600")
            }
            timeout = seconds
        }
        return RemoteCacheSettings(url: url, address: address, readOnly: readOnly, headers: headers, timeoutSeconds: timeout)
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
