import CSwbpfCurl
#if canImport(Glibc)
import Glibc
#endif

/// Requests through the system's libcurl (see CSwbpfCurl.h): loaded on first use only.
package enum CurlHTTP {
    package static func perform(method: String, url: String, headers: [(String, String)], body: [UInt8],
                                timeoutSeconds: Double, limit: Int, sink: HTTPClient.Sink) -> Result<HTTPResponse, HTTPFailure> {
        let lines = headers.map { "\($0.0): \($0.1)" }
        var result = swbpf_curl_result()
        let timeout = Int(timeoutSeconds * 1000)
        let fd: Int32 = if case .file(let descriptor) = sink { descriptor } else { -1 }
        let status: Int32 = withCStrings(lines) { pointers in
            body.withUnsafeBufferPointer { bytes in
                swbpf_curl_perform(method, url, pointers, lines.count, bytes.baseAddress, bytes.count, timeout,
                                   min(timeout, 5000), max(limit, 0), fd, &result)
            }
        }
        defer { swbpf_curl_result_free(&result) }
        guard status == 0 else {
            let reason = withUnsafeBytes(of: result.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return .failure(HTTPFailure(reason))
        }
        let bytes = result.body.map { Array(UnsafeBufferPointer(start: $0, count: result.length)) } ?? []
        return .success(HTTPResponse(status: result.status, body: bytes))
    }

    /// `body` with the strings as a C array of C strings that lives as long as the call.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
