/// Where the remote cache is and how to talk to it.
public struct RemoteCacheSettings: Sendable, Equatable {
    public var url: String
    package var address: HTTPAddress
    /// Look things up, never upload (CI readers beside one writer).
    public var readOnly: Bool
    /// Extra request headers sent: `Authorization: Bearer TOKEN`, or one the server wants.
    public var headers: [Header]
    /// The most one request may take, connection included.
    public var timeoutSeconds: Double
    public var namedBy: NamedBy
    /// The user has credentials, and this remote does not get them (a project named it).
    public var credentialsWithheld: Bool

    /// Who chose the remote: what it may be sent, and whether it may be written, depend on it.
    public enum NamedBy: Sendable, Equatable {
        case environment
        case userConfig(file: String)
        case project

        /// The setting, as errors name it.
        package var setting: String {
            switch self {
            case .environment: "SWBPF_REMOTE_CACHE"
            case .userConfig(let file): "\(file) [cache] remote"
            case .project: "swbpf.toml [cache] remote"
            }
        }
    }

    /// The URL as it is printed: a password in it is never shown.
    public var displayURL: String { HTTPAddress.redacted(url) }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package init(url: String, address: HTTPAddress, readOnly: Bool, headers: [Header], timeoutSeconds: Double,
                 namedBy: NamedBy = .environment, credentialsWithheld: Bool = false) {
        self.url = url
        self.address = address
        self.readOnly = readOnly
        self.headers = headers
        self.timeoutSeconds = timeoutSeconds
        self.namedBy = namedBy
        self.credentialsWithheld = credentialsWithheld
    }
}

/// The Bazel HTTP/1.1 remote-cache protocol: `GET`, `HEAD` and `PUT` of `BASE/cas/SHA256` for
/// outputs and `BASE/ac/KEY` for manifests and entries. Served by bazel-remote (with
/// `--disable_http_ac_validation`, since our `ac` records are not ActionResult messages), by any
/// WebDAV server that accepts PUT (nginx `dav_methods PUT`, Apache, lighttpd), and by the servers
/// ccache's `layout=bazel` uses. A 404 is a miss; anything else that is not a 2xx is a failure.
package struct RemoteCache: Sendable {
    package let settings: RemoteCacheSettings

    /// The most a manifest or an entry may be: a few lines per header or output.
    package static let recordLimit = 1 << 20

    private func request(_ method: String, _ namespace: CacheNamespace, _ key: String, body: [UInt8] = [],
                         limit: Int = 0, sink: HTTPClient.Sink = .memory) async -> Result<HTTPResponse, CacheError> {
        let headers = settings.headers.map { ($0.name, $0.value) }
        let result = await HTTPClient.perform(method: method, address: settings.address, path: "/\(namespace.rawValue)/\(key)",
                                              headers: headers, body: body, timeoutSeconds: settings.timeoutSeconds,
                                              limit: limit, sink: sink)
        switch result {
        case .success(let response): return .success(response)
        case .failure(let failure): return .failure(.remote(url: settings.displayURL, reason: "\(method) \(namespace.rawValue)/\(key.prefix(12))…: \(failure.reason)"))
        }
    }

    /// The record stored under `key` in `ac` (at most `recordLimit` bytes), nil when the server has none.
    package func getRecord(_ key: String) async -> Result<[UInt8]?, CacheError> {
        switch await request("GET", .ac, key, limit: Self.recordLimit) {
        case .failure(let error): return .failure(error)
        case .success(let response) where response.status == 404: return .success(nil)
        case .success(let response) where (200..<300).contains(response.status): return .success(response.body)
        case .success(let response): return .failure(unexpected(response, "GET", .ac, key))
        }
    }

    /// Streams the blob `key` of `cas` into `fd`, at most `size` bytes (what its entry declares):
    /// false when the server has none. Whatever a failed transfer wrote is the caller's to discard.
    package func download(_ key: String, size: Int, into fd: Int32) async -> Result<Bool, CacheError> {
        switch await request("GET", .cas, key, limit: size, sink: .file(fd)) {
        case .failure(let error): return .failure(error)
        case .success(let response) where response.status == 404: return .success(false)
        case .success(let response) where (200..<300).contains(response.status): return .success(true)
        case .success(let response): return .failure(unexpected(response, "GET", .cas, key))
        }
    }

    package func contains(_ namespace: CacheNamespace, _ key: String) async -> Result<Bool, CacheError> {
        switch await request("HEAD", namespace, key) {
        case .failure(let error): return .failure(error)
        case .success(let response) where response.status == 404: return .success(false)
        case .success(let response) where (200..<300).contains(response.status): return .success(true)
        case .success(let response): return .failure(unexpected(response, "HEAD", namespace, key))
        }
    }

    package func put(_ namespace: CacheNamespace, _ key: String, _ bytes: [UInt8]) async -> Result<Void, CacheError> {
        switch await request("PUT", namespace, key, body: bytes) {
        case .failure(let error): return .failure(error)
        case .success(let response) where (200..<300).contains(response.status): return .success(())
        case .success(let response): return .failure(unexpected(response, "PUT", namespace, key))
        }
    }

    private func unexpected(_ response: HTTPResponse, _ method: String, _ namespace: CacheNamespace, _ key: String) -> CacheError {
        .remote(url: settings.displayURL, reason: "\(method) \(namespace.rawValue)/\(key.prefix(12))… answered HTTP \(response.status)")
    }

    package init(settings: RemoteCacheSettings) {
        self.settings = settings
    }
}
