import FoundationEssentials
import Synchronization
import SwbpfBasics
import SwbpfBuild
import SwbpfKernel
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf run APP [-- ARGS]`: builds the app, then runs it with bpf_printk() output streamed
/// beside its own, from a tracefs instance of swbpf's own.
public enum RunSession {
    /// What the build phase leaves for the run.
    public struct Built: Sendable {
        public var app: String
        /// The binary, absolute.
        public var binary: String
    }

    /// Builds `app` (Ctrl-C stops the build as usual); nil after a failure, with its status.
    public static func build(_ request: BuildRequest, app: String, console: BuildReporter) async -> (Built?, status: Int32) {
        var request = request
        request.apps = [app]
        request.runsHere = "run"
        let (status, prepared) = await BuildSession.build(request, console: console)
        guard status == 0, let opened = prepared?.plannedProject else { return (nil, status) }
        guard let link = opened.plan.steps.first(where: { $0.kind.linksBinary && $0.app == app }) else { return (nil, 1) }
        let binary = FileSystem.absolute(link.primaryOutput, base: opened.project.root)
        guard FileSystem.isExecutableFile(binary) else {
            console.handle(.diagnostic(Diagnostic(of: KernelError.noSuchBinary(app: app, path: link.primaryOutput))))
            return (nil, 1)
        }
        return (Built(app: app, binary: binary), 0)
    }

    /// Runs the built app to its end and returns its exit status (128 + the signal that ended it).
    /// The terminal's Ctrl-C reaches the app itself (it shares swbpf's process group); SIGINT and
    /// SIGTERM sent to swbpf alone are forwarded to it. Either way the app stops the way it
    /// expects, and swbpf waits for it, prints the last bpf_printk lines, and removes its instance.
    public static func runApp(_ built: Built, arguments: [String], note: (String) -> Void) throws -> Int32 {
        _ = try KernelMounts.ensureBpffs(note: note)
        let tracefs = try KernelMounts.ensureTracefs(note: note)
        for name in PrintkInstance.removeAbandoned(tracefs: tracefs) {
            note("swbpf: removed the tracefs instance \(name), left behind by a swbpf run that was killed")
        }
        let instance = try PrintkInstance(tracefs: tracefs, name: PrintkInstance.runInstanceName(pid: getpid()))
        defer { instance.remove() }
        note("swbpf: running \(built.app); bpf_printk() output is shown as 'bpf_printk: TASK-PID: message' (from \(instance.path))")
        // A plain handler that only records the signal; the wait loop below forwards it. A signal
        // the kernel sent (the terminal's, to the whole foreground group) has reached the app too,
        // so it is not sent twice.
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { number, info, _ in
            if info?.pointee.si_code != SignalCode.kernel { receivedSignal.store(number, ordering: .relaxed) }
        }
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        for number in [SIGINT, SIGTERM] { sigaction(number, &action, nil) }
        defer { for number in [SIGINT, SIGTERM] { signal(number, SIG_IGN) } }
        let app = try AppProcess(executable: built.binary, arguments: arguments)
        while !app.hasExited() {
            let pending = receivedSignal.exchange(0, ordering: .relaxed)
            if pending != 0 { app.send(pending) }
            if instance.waitForOutput(milliseconds: 100) { printPrintk(instance.readLines()) }
        }
        // What the app printed just before it exited is in the buffer already.
        printPrintk(instance.readLines())
        return app.exitStatus ?? 1
    }

    private static func printPrintk(_ lines: [String]) {
        let text = lines.compactMap(PrintkInstance.printkLine).map { "bpf_printk: \($0)\n" }.joined()
        if !text.isEmpty { TextOutput.standardOutput.write(text) }
    }
}

/// The last SIGINT or SIGTERM swbpf received while an app ran, not yet forwarded. Global, because
/// a C signal handler can reach nothing else.
private let receivedSignal = Atomic<Int32>(0)

package enum SignalCode {
    /// si_code of a signal the kernel generated itself (SI_KERNEL), such as the terminal's SIGINT.
    package static let kernel: Int32 = 0x80
}
