import CSwbpfProcess
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A build stopped by SIGINT, SIGTERM or SIGHUP.
public struct Interruption: Error, Sendable, Equatable {
    public var signal: Int32
    /// The conventional status: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
    public var exitStatus: Int32 { 128 + signal }

    package init(signal: Int32) {
        self.signal = signal
    }
}

/// SIGINT, SIGTERM and SIGHUP cancel the work instead of killing the process outright, so the
/// executor can stop its children, remove partial outputs and save the state before exiting.
///
/// A C handler records the first signal and writes a byte to a pipe; `run` watches that pipe.
/// Installed first thing in `main` (`installEarly`), a signal that arrives before the work
/// starts is kept, and the work then does not start at all.
public enum Interrupts {
    /// Catches the termination signals and ignores SIGPIPE. Call it before anything else; calling
    /// it again does nothing.
    public static func installEarly() {
        _ = swbpf_catch_termination_signals()
    }

    /// The first termination signal received so far.
    public static var received: Interruption? {
        let signal = swbpf_first_termination_signal()
        return signal == 0 ? nil : Interruption(signal: signal)
    }

    /// Runs `body` unless a signal has already arrived; a signal during it cancels it (`body` still
    /// runs to its end, to clean up) and is then returned instead of its value.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> Result<T, Interruption> {
        let wake = swbpf_catch_termination_signals()
        if let received { return .failure(received) }
        let task = Task { await body() }
        // A signal between the check above and here left its byte in the pipe: the source fires at once.
        let source = wake >= 0 ? DispatchSource.makeReadSource(fileDescriptor: wake, queue: .global()) : nil
        source?.setEventHandler {
            var bytes = [UInt8](repeating: 0, count: 16)
            while bytes.withUnsafeMutableBytes({ read(wake, $0.baseAddress, $0.count) }) > 0 {}
            task.cancel()
        }
        source?.resume()
        let value = await task.value
        source?.cancel()
        if let received { return .failure(received) }
        return .success(value)
    }
}
