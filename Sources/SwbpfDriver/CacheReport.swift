import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// `swbpf cache`: where the shared cache is, how full, how useful; trimming and clearing it.
public enum CacheReport {
    /// The local store `swbpf cache` works on, and the remote one builds here would use (from the
    /// environment and, when `directory` is a project, its swbpf.toml).
    public struct Target {
        public var store: LocalCacheStore
        public var sizeLimit: Int64
        public var remote: RemoteCacheSettings?
        public var disabledBy: String?
    }

    public static func target(environment: [String: String], projectDirectory: String?) throws -> Target {
        guard let directory = CacheSettings.localDirectory(environment: environment) else { throw CacheError.noCacheDirectory }
        // The project's swbpf.toml, when there is one, may configure the cache; only that file is
        // read (a project whose apps do not load still has its cache settings).
        let configFile = projectDirectory.map { FileSystem.join($0, ProjectConfig.fileName) }
        var config = ProjectConfig()
        if let configFile, FileSystem.exists(configFile) {
            config = try ProjectConfig.parse(ProjectLoader.readConfigFile(configFile), file: ProjectConfig.fileName)
        }
        var target = Target(store: LocalCacheStore(directory: directory),
                            sizeLimit: try CacheSettings.sizeLimit(environment: environment, config: config))
        if let settings = try CacheSettings.resolve(environment: environment, config: config, disabled: false) {
            target.remote = settings.remote
        } else {
            target.disabledBy = environment["SWBPF_CACHE"] != nil ? "SWBPF_CACHE=\(environment["SWBPF_CACHE"] ?? "")"
                : "\(ProjectConfig.fileName) [cache] enabled = false"
        }
        return target
    }

    /// The summary `swbpf cache` prints.
    public static func summary(_ target: Target) -> String {
        let files = target.store.storedFiles()
        let size = files.reduce(0) { $0 + $1.size }
        let blobs = files.filter { $0.namespace == .cas }.count
        let counts = target.store.totals()
        var lines = ["cache: \(target.store.directory)".escapedForDisplay()]
        if let reason = target.disabledBy { lines.append("  off here (\(reason)); builds neither look up nor store") }
        lines.append("  size: \(format(bytes: size)) of \(format(bytes: target.sizeLimit)) (\(blobs) output\(blobs == 1 ? "" : "s"), \(files.count - blobs) manifests and entries)")
        if counts.lookups == 0 {
            lines.append("  hits: none yet")
        } else {
            let rate = Double(counts.hits) * 100 / Double(counts.lookups)
            lines.append("  hits: \(counts.hits) of \(counts.lookups) lookups (\(Decimal.string(rate, places: 1))%): \(counts.localHits) local, \(counts.remoteHits) remote; \(counts.stored) steps stored")
        }
        if let remote = target.remote {
            lines.append("  remote: \(remote.displayURL) (named by \(remote.namedBy.setting))".escapedForDisplay())
            let trustHint = remote.namedBy == .project ? " (a remote named by swbpf.toml is, unless your config's trusted-remotes lists its origin)" : ""
            lines.append("    mode: " + (remote.readOnly ? "read-only, never uploads\(trustHint)" : "read-write, uploads what builds here make"))
            lines.append("    credentials: " + (remote.credentialsWithheld
                ? "not sent: a project file named this remote and your config does not trust its origin (\(remote.address.origin))"
                : remote.headers.isEmpty ? "none" : "sent (\(remote.headers.map(\.name).joined(separator: ", ")))"))
        } else {
            lines.append("  remote: none (set SWBPF_REMOTE_CACHE, [cache] remote in your config or in swbpf.toml)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `1.5 MB`, `5.0 GB`: sizes for people.
    public static func format(bytes: Int64) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : Decimal.string(value, places: 1) + " " + units[unit]
    }
}
