import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// An `http://` or `https://` address split into what a request needs.
package struct HTTPAddress: Equatable, Sendable {
    package var secure: Bool
    package var host: String
    package var port: Int
    /// The path prefix, without a trailing slash ("" or "/cache").
    package var basePath: String

    package init?(_ url: String) {
        let rest: Substring
        if url.hasPrefix("http://") { secure = false; rest = url.dropFirst(7) }
        else if url.hasPrefix("https://") { secure = true; rest = url.dropFirst(8) }
        else { return nil }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.isEmpty, !authority.contains("@"), !path.contains("?"), !path.contains("#") else { return nil }
        // [v6]:port, host:port, or a bare host.
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { port = secure ? 443 : 80 }
            else if after.hasPrefix(":"), let number = Int(after.dropFirst()), (1...65535).contains(number) { port = number }
            else { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            host = String(authority[..<colon])
            port = number
        } else {
            host = String(authority)
            port = secure ? 443 : 80
        }
        guard !host.isEmpty else { return nil }
        basePath = path
    }

    /// `url` with the password of its userinfo (`http://user:secret@host`) replaced by `***`: how a
    /// URL is printed, in errors too.
    package static func redacted(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        let user = authority[..<at].prefix { $0 != ":" }
        let hidden = user.count < authority.distance(from: authority.startIndex, to: at) ? "\(user):***" : String(user)
        return String(url[..<scheme.upperBound]) + hidden + String(url[at...])
    }

    /// `scheme://host:port`, what trust is granted to: a remote with the same origin is the same server.
    package var origin: String { "\(secure ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host.lowercased()):\(port)" }

    package var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    package func url(_ path: String) -> String { "\(secure ? "https" : "http")://\(hostHeader)\(basePath)\(path)" }
}

package struct HTTPResponse: Sendable {
    package var status: Int
    package var body: [UInt8]

    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// The remote cache's requests, each on a thread of its own so that a slow server never holds a
/// thread of the concurrency pool. libcurl does the HTTP (see `CurlHTTP`): lengths, chunking,
/// keep-alive and timeouts are parsed there, with checked arithmetic, not by hand.
package enum HTTPClient {
    /// Where a response body goes: memory, or a file descriptor (a blob streamed to disk).
    package enum Sink: Sendable {
        case memory
        case file(Int32)
    }

    package static func perform(method: String, address: HTTPAddress, path: String, headers: [(String, String)], body: [UInt8],
                                timeoutSeconds: Double, limit: Int, sink: Sink = .memory) async -> Result<HTTPResponse, HTTPFailure> {
        await onOwnThread {
            exchange(method: method, address: address, path: path, headers: headers, body: body, timeoutSeconds: timeoutSeconds,
                     limit: limit, sink: sink)
        }
    }

    /// The whole exchange, blocking, bounded by `timeoutSeconds` and by `limit` bytes of body.
    package static func exchange(method: String, address: HTTPAddress, path: String, headers: [(String, String)], body: [UInt8],
                                 timeoutSeconds: Double, limit: Int, sink: Sink = .memory) -> Result<HTTPResponse, HTTPFailure> {
        CurlHTTP.perform(method: method, url: address.url(path), headers: headers, body: body, timeoutSeconds: timeoutSeconds,
                         limit: limit, sink: sink)
    }

    package static func onOwnThread(_ body: @escaping @Sendable () -> Result<HTTPResponse, HTTPFailure>) async -> Result<HTTPResponse, HTTPFailure> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPFailure>, Never>) in
            let started = startDetachedThread { continuation.resume(returning: body()) }
            if started != 0 { continuation.resume(returning: .failure(HTTPFailure("cannot start a thread: \(String(cString: strerror(started)))"))) }
        }
    }
}

/// Why an exchange failed, in words for a note.
package struct HTTPFailure: Error, Sendable, Equatable {
    package var reason: String

    package init(_ reason: String) { self.reason = reason }
}
