import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// A tracefs instance of swbpf's own that records bpf_printk() output: the kernel writes every
/// bpf_trace_printk line into each instance that enables the bpf_trace:bpf_trace_printk event,
/// so reading this instance's trace_pipe takes nothing from the global trace_pipe (which another
/// reader would otherwise race us for) and nobody else reads or clears this buffer.
public final class PrintkInstance {
    public let path: String
    private var pipe: Int32 = -1
    private var partial: [UInt8] = []
    private var removed = false

    public init(tracefs: String, name: String) throws {
        path = FileSystem.join(FileSystem.join(tracefs, "instances"), name)
        guard mkdir(path, 0o755) == 0 else {
            throw KernelError.traceInstance(path: path, action: "create", reason: String(cString: strerror(errno)))
        }
        do {
            try write("events/bpf_trace/bpf_trace_printk/enable", "1")
            try write("tracing_on", "1")
            pipe = open(FileSystem.join(path, "trace_pipe"), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard pipe >= 0 else { throw KernelError.traceInstance(path: path, action: "open trace_pipe of", reason: String(cString: strerror(errno))) }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    private func write(_ file: String, _ value: String) throws {
        let target = FileSystem.join(path, file)
        let fd = open(target, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KernelError.traceInstance(path: path, action: "open \(file) in", reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw KernelError.traceInstance(path: path, action: "write \(value) to \(file) in", reason: String(cString: strerror(errno)))
        }
    }

    /// Waits up to `milliseconds` for output; true when some is ready.
    package func waitForOutput(milliseconds: Int32) -> Bool {
        var waiting = pollfd(fd: pipe, events: Int16(POLLIN), revents: 0)
        return poll(&waiting, 1, milliseconds) > 0
    }

    /// The complete lines waiting in trace_pipe (consumed: each is read once).
    package func readLines() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipe, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            partial += buffer[..<count]
        }
        guard let last = partial.lastIndex(of: 0x0A) else { return [] }
        let lines = partial[...last].split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
        partial.removeSubrange(...last)
        return lines
    }

    /// `minimal-123 [001] .... 5.6: bpf_trace_printk: hello` as `minimal-123: hello`; nil for
    /// lines that are not bpf_printk output.
    package static func printkLine(_ line: String) -> String? {
        guard let marker = line.firstRange(of: ": bpf_trace_printk: ") else { return nil }
        let message = line[marker.upperBound...].trimmed(["\n", "\r"])
        let head = line[..<marker.lowerBound]
        let task = head.firstRange(of: " [").map { head[..<$0.lowerBound] }.map { $0.trimmed() } ?? head.trimmed()
        return message.isEmpty ? nil : "\(task): \(message)"
    }

    /// The instance `swbpf run` with process id `pid` records into.
    public static func runInstanceName(pid: pid_t) -> String { "\(runInstancePrefix)\(pid)" }
    private static let runInstancePrefix = "swbpf-run-"

    /// Removes the instances that `swbpf run`s which are gone left behind (a SIGKILLed swbpf
    /// cannot remove its own): those whose process has exited or is no longer swbpf. Returns their names.
    public static func removeAbandoned(tracefs: String) -> [String] {
        let instances = FileSystem.join(tracefs, "instances")
        return (FileSystem.entries(instances) ?? []).compactMap { entry -> String? in
            guard entry.isDirectory, entry.name.hasPrefix(runInstancePrefix),
                  let pid = pid_t(entry.name.dropFirst(runInstancePrefix.count)), pid > 0, pid != getpid() else { return nil }
            let alive = kill(pid, 0) == 0 || errno == EPERM
            if alive, FileSystem.readText("/proc/\(pid)/comm")?.trimmed() == "swbpf" { return nil }
            return rmdir(FileSystem.join(instances, entry.name)) == 0 ? entry.name : nil
        }
    }

    /// Disables the event and removes the instance (tracefs removes an instance with rmdir, and
    /// only once nothing holds its files open).
    public func remove() {
        guard !removed else { return }
        removed = true
        if pipe >= 0 { close(pipe) }
        try? write("events/bpf_trace/bpf_trace_printk/enable", "0")
        rmdir(path)
    }
}
