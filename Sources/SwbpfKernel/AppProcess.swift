import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// An app started by `swbpf run`, sharing swbpf's terminal (standard input, output and error).
///
/// Not through the process runner: that one captures output and stops children by cancelling,
/// while the app must own the terminal and stop the way it expects, on SIGINT. It stays in
/// swbpf's process group, so the terminal's Ctrl-C and Ctrl-Z reach it directly and it may read
/// the terminal; its signal mask and the dispositions swbpf changed are reset to the defaults.
package final class AppProcess {
    package let pid: pid_t
    package private(set) var exitStatus: Int32?

    /// The app gets SIGTERM, its own stop signal, if swbpf dies before it (even by SIGKILL): it
    /// detaches its programs and exits, instead of running on with nobody to stop it.
    package init(executable: String, arguments: [String]) throws {
        switch ProcessRunner.startSharingTerminal(executable, arguments: arguments, deathSignal: SIGTERM) {
        case .success(let child): pid = child
        case .failure(.couldNotLaunch(_, let reason)), .failure(.couldNotWriteOutput(_, let reason)):
            throw KernelError.cannotStart(path: executable, reason: reason)
        }
    }

    package func send(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Whether the app has exited (reaping it, and setting `exitStatus`: its exit code, or
    /// 128 + the signal that ended it).
    package func hasExited() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else {
            // Reaped elsewhere: nothing is known of how it ended.
            if result < 0 && errno == ECHILD { exitStatus = 1 }
            return exitStatus != nil
        }
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        return true
    }
}
