import SwbpfBasics
import SwbpfModel

/// What can stop swbpf's kernel commands (verify, run, doctor) before the kernel gives a verdict.
public enum KernelError: DiagnosticError, Equatable {
    case cannotMount(type: String, target: String, reason: String, command: String)
    case loaderFailed(command: String, status: Int32, output: String)
    case loaderOutputMalformed(command: String, reason: String)
    case cannotOpenObject(path: String, error: String, libbpfLog: String)
    case cannotCreatePinDirectory(path: String, reason: String)
    case traceInstance(path: String, action: String, reason: String)
    case noSuchBinary(app: String, path: String)
    case cannotStart(path: String, reason: String)
    case loaderNeedsCompiler(reason: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .cannotMount(let type, let target, let reason, let command):
            return Diagnostic(.error, "\(type) is not mounted and mounting it at \(target) failed: \(reason)",
                              help: "mount it as root: \(command)")
        case .loaderFailed(let command, let status, let output):
            return Diagnostic(.error, "swbpf's kernel loader failed (exit status \(status)): \(command)\n\(output)",
                              help: "rebuild it: remove .output/\(KernelLoader.binaryName) and run the command again")
        case .loaderOutputMalformed(let command, let reason):
            return Diagnostic(.error, "could not read what swbpf's kernel loader printed (\(command)): \(reason)",
                              help: "rebuild it: remove .output/\(KernelLoader.binaryName) and run the command again")
        case .cannotOpenObject(let path, let error, let libbpfLog):
            return Diagnostic(.error, "libbpf cannot open \(path): \(error)", notes: libbpfLog.split(separator: "\n").map(String.init),
                              help: "rebuild the app ('swbpf build'); if it persists, the object was made by a toolchain this libbpf does not read")
        case .cannotCreatePinDirectory(let path, let reason):
            return Diagnostic(.error, "cannot create the throwaway pin directory \(path): \(reason)",
                              help: "verify needs root and a writable bpffs: mount -t bpf bpf /sys/fs/bpf")
        case .traceInstance(let path, let action, let reason):
            return Diagnostic(.error, "cannot \(action) the trace instance \(path): \(reason)",
                              help: "reading bpf_printk output needs root and tracefs: mount -t tracefs nodev /sys/kernel/tracing")
        case .noSuchBinary(let app, let path):
            return Diagnostic(.error, "the build of \(app) finished but \(path) does not exist", help: "run 'swbpf build \(app)' and check its output")
        case .cannotStart(let path, let reason):
            return Diagnostic(.error, "cannot start \(path): \(reason)")
        case .loaderNeedsCompiler(let reason):
            return Diagnostic(.error, "cannot build swbpf's kernel loader: \(reason)",
                              help: "install a C compiler and libbpf: apt-get install gcc libbpf-dev libelf-dev zlib1g-dev")
        }
    }
}
