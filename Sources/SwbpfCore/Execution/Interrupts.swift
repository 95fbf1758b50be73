import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs work that SIGINT and SIGTERM cancel instead of killing the process outright, so the
/// executor can stop its children, remove partial outputs and save the state before exiting.
public enum Interrupts {
    /// Runs `body`; returns its result and the signal that interrupted it, if any.
    public static func run<T: Sendable>(_ body: sending @escaping () async -> T) async -> (T, Int32?) {
        let received = Mutex<Int32?>(nil)
        let task = Task { await body() }
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                received.withLock { if $0 == nil { $0 = number } }
                task.cancel()
            }
            source.resume()
            return source
        }
        let value = await task.value
        sources.forEach { $0.cancel() }
        return (value, received.withLock { $0 })
    }

    /// The conventional exit status for a process ended by `signal`: 130 for SIGINT, 143 for SIGTERM.
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }
}

