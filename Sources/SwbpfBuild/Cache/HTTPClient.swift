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

/// A small HTTP/1.1 client for the remote cache: one request per connection (`Connection: close`),
/// with a deadline on the whole exchange, run on a thread of its own so that a slow server never
/// holds a thread of the concurrency pool. Plain http only; https goes through libcurl (`CurlHTTP`).
package enum HTTPClient {
    /// The most a response may hold: no build output comes near it.
    package static let maximumBody = 1 << 30

    package static func perform(method: String, address: HTTPAddress, path: String, headers: [(String, String)], body: [UInt8],
                        timeoutSeconds: Double) async -> Result<HTTPResponse, HTTPFailure> {
        if address.secure {
            return await onOwnThread { CurlHTTP.perform(method: method, url: address.url(path), headers: headers, body: body,
                                                        timeoutSeconds: timeoutSeconds) }
        }
        return await onOwnThread { exchange(method: method, address: address, path: path, headers: headers, body: body,
                                            timeoutSeconds: timeoutSeconds) }
    }

    package static func onOwnThread(_ body: @escaping @Sendable () -> Result<HTTPResponse, HTTPFailure>) async -> Result<HTTPResponse, HTTPFailure> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPFailure>, Never>) in
            let started = startDetachedThread { continuation.resume(returning: body()) }
            if started != 0 { continuation.resume(returning: .failure(HTTPFailure("cannot start a thread: \(String(cString: strerror(started)))"))) }
        }
    }

    /// The whole exchange, blocking, bounded by `timeoutSeconds`.
    package static func exchange(method: String, address: HTTPAddress, path: String, headers: [(String, String)], body: [UInt8],
                         timeoutSeconds: Double) -> Result<HTTPResponse, HTTPFailure> {
        let deadline = Deadline(seconds: timeoutSeconds)
        let fd: Int32
        switch connect(address, deadline: deadline) {
        case .success(let socket): fd = socket
        case .failure(let failure): return .failure(failure)
        }
        defer { close(fd) }
        var head = "\(method) \(address.basePath)\(path) HTTP/1.1\r\nHost: \(address.hostHeader)\r\nConnection: close\r\n"
        head += "User-Agent: swbpf\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        if let failure = send(fd, Array(head.utf8) + body, deadline: deadline) { return .failure(failure) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard wait(fd, for: Int16(POLLIN), deadline: deadline) else { return .failure(HTTPFailure("timed out after \(Deadline.format(timeoutSeconds))")) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(HTTPFailure(String(cString: strerror(errno))))
            }
            if n == 0 { break }
            received += buffer[0..<n]
            guard received.count <= maximumBody + (1 << 16) else { return .failure(HTTPFailure("response larger than \(maximumBody) bytes")) }
        }
        return parse(received, method: method)
    }

    /// Status, then the body by Content-Length or chunked encoding (or up to the close).
    package static func parse(_ bytes: [UInt8], method: String) -> Result<HTTPResponse, HTTPFailure> {
        guard let end = find([13, 10, 13, 10], in: bytes) else { return .failure(HTTPFailure("malformed response: no end of headers")) }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusFields = head.first?.split(separator: " ") ?? []
        guard statusFields.count >= 2, statusFields[0].hasPrefix("HTTP/1."), let status = Int(statusFields[1]) else {
            return .failure(HTTPFailure("malformed status line '\(head.first ?? "")'"))
        }
        var length: Int?
        var chunked = false
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmed([" ", "\t"])
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        var body = Array(bytes[(end + 4)...])
        if method == "HEAD" || status == 204 || status == 304 { return .success(HTTPResponse(status: status, body: [])) }
        if chunked {
            guard let decoded = dechunk(body) else { return .failure(HTTPFailure("malformed chunked body")) }
            body = decoded
        } else if let length {
            guard body.count >= length else { return .failure(HTTPFailure("truncated response: \(body.count) of \(length) bytes")) }
            body.removeLast(body.count - length)
        }
        return .success(HTTPResponse(status: status, body: body))
    }

    package static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).prefix { $0 != ";" }.trimmed([" "])
            guard let size = Int(sizeText, radix: 16), size >= 0 else { return nil }
            index = lineEnd + 2
            if size == 0 { return out }
            guard index + size + 2 <= bytes.count else { return nil }
            out += bytes[index..<index + size]
            index += size + 2
        }
    }

    package static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], Array(bytes[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }

    // MARK: Sockets

    package struct Deadline {
        package let end: Double

        package init(seconds: Double) { end = Self.now() + seconds }
        package var remainingMilliseconds: Int32 { Int32(max(0, min(Double(Int32.max), (end - Self.now()) * 1000))) }
        package static func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        package static func format(_ seconds: Double) -> String { seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s" }
    }

    /// Waits until `fd` is ready for `events`; false at the deadline.
    package static func wait(_ fd: Int32, for events: Int16, deadline: Deadline) -> Bool {
        while true {
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, deadline.remainingMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }

    package static func connect(_ address: HTTPAddress, deadline: Deadline) -> Result<Int32, HTTPFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard lookup == 0, let first = list else {
            return .failure(HTTPFailure("cannot resolve \(address.host): \(String(cString: gai_strerror(lookup)))"))
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return .success(fd) }
            guard errno == EINPROGRESS else { lastError = String(cString: strerror(errno)); close(fd); continue }
            guard wait(fd, for: Int16(POLLOUT), deadline: deadline) else { close(fd); return .failure(HTTPFailure("connection timed out")) }
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
            if error == 0 { return .success(fd) }
            lastError = String(cString: strerror(error))
            close(fd)
        }
        return .failure(HTTPFailure(lastError))
    }

    package static func send(_ fd: Int32, _ bytes: [UInt8], deadline: Deadline) -> HTTPFailure? {
        var offset = 0
        while offset < bytes.count {
            guard wait(fd, for: Int16(POLLOUT), deadline: deadline) else { return HTTPFailure("timed out sending the request") }
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return HTTPFailure(String(cString: strerror(errno)))
            }
            offset += n
        }
        return nil
    }
}

/// Why an exchange failed, in words for a note.
package struct HTTPFailure: Error, Sendable, Equatable {
    package var reason: String

    package init(_ reason: String) { self.reason = reason }
}
