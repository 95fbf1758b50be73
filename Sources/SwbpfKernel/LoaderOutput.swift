#if canImport(Glibc)
import Glibc
#endif

/// One program of an object as the kernel loader reported it after loading it alone.
package struct LoadedProgram: Equatable, Sendable {
    package var name = ""
    package var section = ""
    /// libbpf's name of the program type (`tracepoint`, `kprobe`, `tracing`, ...).
    package var type = ""
    /// libbpf's name of the expected attach type (`trace_fentry`, ...).
    package var attachType = ""
    /// 0, or the errno the load failed with.
    package var status: Int32 = 0
    /// The verifier log level of the attempt whose log this is (2|4, 1|4 or 4).
    package var logLevel = 0
    /// A more detailed log did not fit its buffer; `truncatedLog` holds its tail.
    package var truncated = false
    package var wallNanoseconds: UInt64 = 0
    /// What libbpf printed while it opened and loaded the object (warnings and errors).
    package var libbpfLog = ""
    /// The kernel verifier's log.
    package var kernelLog = ""
    package var truncatedLog: String?

    package init(name: String = "", section: String = "", type: String = "", attachType: String = "", status: Int32 = 0, logLevel: Int = 0, truncated: Bool = false, wallNanoseconds: UInt64 = 0, libbpfLog: String = "", kernelLog: String = "", truncatedLog: String? = nil) {
        self.name = name
        self.section = section
        self.type = type
        self.attachType = attachType
        self.status = status
        self.logLevel = logLevel
        self.truncated = truncated
        self.wallNanoseconds = wallNanoseconds
        self.libbpfLog = libbpfLog
        self.kernelLog = kernelLog
        self.truncatedLog = truncatedLog
    }
}

/// What the loader printed for one object.
package struct LoaderVerifyOutput: Equatable, Sendable {
    /// libbpf could not open the object at all: the errno and libbpf's words.
    package struct OpenError: Equatable, Sendable {
        package var status: Int32
        package var libbpfLog: String

        package init(status: Int32, libbpfLog: String) {
            self.status = status
            self.libbpfLog = libbpfLog
        }
    }

    package var libbpfVersion = ""
    package var programs: [LoadedProgram] = []
    package var openError: OpenError?

    package init(libbpfVersion: String = "", programs: [LoadedProgram] = [], openError: OpenError? = nil) {
        self.libbpfVersion = libbpfVersion
        self.programs = programs
        self.openError = openError
    }
}

/// Reads the loader's records: `key value` lines, and blocks (`key LENGTH`, then exactly LENGTH
/// bytes and a newline) for logs, which may hold any byte.
package struct LoaderOutputReader {
    private let bytes: [UInt8]
    private var position = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package struct Malformed: Error, CustomStringConvertible {
        package var description: String

        package init(description: String) {
            self.description = description
        }
    }

    /// The next line split into its key and the rest, or nil at the end.
    package mutating func nextLine() -> (key: String, value: String)? {
        guard position < bytes.count else { return nil }
        let end = bytes[position...].firstIndex(of: 0x0A) ?? bytes.count
        let line = String(decoding: bytes[position..<end], as: UTF8.self)
        position = min(end + 1, bytes.count)
        guard let space = line.firstIndex(of: " ") else { return (line, "") }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }

    package mutating func block(length text: String, key: String) throws -> String {
        guard let length = Int(text), length >= 0, position + length <= bytes.count else {
            throw Malformed(description: "the \(key) block's length '\(text)' runs past the end of the output")
        }
        let value = String(decoding: bytes[position..<(position + length)], as: UTF8.self)
        position += length
        if position < bytes.count, bytes[position] == 0x0A { position += 1 }
        return value
    }

    /// The next `count` bytes as they are, or nil when fewer are left.
    package mutating func bytes(count: Int) -> [UInt8]? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    package static func parseVerify(_ bytes: [UInt8]) throws -> LoaderVerifyOutput {
        var reader = LoaderOutputReader(bytes)
        var output = LoaderVerifyOutput()
        var current: LoadedProgram?
        while let (key, value) = reader.nextLine() {
            switch key {
            case "swbpf-loader", "": continue
            case "libbpf_version": output.libbpfVersion = value.hasPrefix("v") ? String(value.dropFirst()) : value
            case "open_error":
                let status = Int32(value) ?? EINVAL
                var log = ""
                if let (blockKey, length) = reader.nextLine(), blockKey == "libbpf_log" { log = try reader.block(length: length, key: blockKey) }
                output.openError = .init(status: status, libbpfLog: log)
            case "program":
                if let current { output.programs.append(current) }
                current = LoadedProgram(name: value)
            case "end":
                if let current { output.programs.append(current) }
                current = nil
            default:
                guard current != nil else { throw Malformed(description: "a '\(key)' line outside a program record") }
                switch key {
                case "section": current?.section = value
                case "type": current?.type = value
                case "attach": current?.attachType = value
                case "status": current?.status = Int32(value) ?? EINVAL
                case "log_level": current?.logLevel = Int(value) ?? 0
                case "truncated": current?.truncated = value == "1"
                case "wall_ns": current?.wallNanoseconds = UInt64(value) ?? 0
                case "libbpf_log": current?.libbpfLog = try reader.block(length: value, key: key)
                case "kernel_log": current?.kernelLog = try reader.block(length: value, key: key)
                case "truncated_log": current?.truncatedLog = try reader.block(length: value, key: key)
                default: throw Malformed(description: "an unknown record line '\(key)'")
                }
            }
        }
        if let current { output.programs.append(current) }
        return output
    }

    package static func parseProbe(_ bytes: [UInt8]) -> KernelFeatures {
        var reader = LoaderOutputReader(bytes)
        var features = KernelFeatures()
        while let (key, value) = reader.nextLine() {
            let words = value.split(separator: " ", maxSplits: 3).map(String.init)
            switch key {
            case "libbpf_version": features.libbpfVersion = value.hasPrefix("v") ? String(value.dropFirst()) : value
            case "probe" where words.count == 4:
                guard let kind = ProgramKind(rawValue: words[0]), let load = Int32(words[1]), let attach = Int32(words[2]) else { continue }
                features.probes[kind] = KernelProbe(kind: kind, loadErrno: load, attachErrno: attach < 0 ? nil : attach,
                                                    target: words[3] == "-" ? nil : words[3])
            case "map" where words.count == 2:
                features.maps[words[0]] = Int32(words[1]) ?? EINVAL
            default: continue
            }
        }
        return features
    }
}
