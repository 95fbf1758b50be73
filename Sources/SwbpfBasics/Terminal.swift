#if canImport(Glibc)
import Glibc
#endif

/// Writes to a file descriptor without buffering surprises: each call is one write, so lines from
/// swbpf and diagnostics from tools never interleave mid-line.
public struct TextOutput: Sendable {
    public let fd: Int32
    public static let standardOutput = TextOutput(fd: 1)
    public static let standardError = TextOutput(fd: 2)

    public var isTerminal: Bool { isatty(fd) == 1 }

    /// Colour only on a terminal, and never when NO_COLOR is set or TERM is dumb.
    public var supportsColor: Bool {
        guard isTerminal else { return false }
        if getenv("NO_COLOR") != nil { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    /// Colour as `--color` asks: `always` and `never` decide; `auto` is `supportsColor`.
    public func usesColor(_ choice: ColorChoice) -> Bool {
        switch choice {
        case .always: return true
        case .never: return false
        case .auto: return supportsColor
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Writes all of `bytes`, or stops at the first error: a reader that went away (EPIPE, as in
    /// `swbpf build | head -1`; SIGPIPE is ignored) or a full disk must not stop the build.
    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && errno == EAGAIN {
                // A non-blocking descriptor handed to swbpf: wait until it takes more.
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&ready, 1, -1) < 0 && errno != EINTR { return }
            } else {
                return
            }
        }
    }

    package init(fd: Int32) {
        self.fd = fd
    }
}

/// `--color auto|always|never`, as cargo spells it.
public enum ColorChoice: String, Sendable, CaseIterable {
    case auto, always, never
}

package enum ANSI {
    package static let reset = "\u{1b}[0m"
    package static let bold = "\u{1b}[1m"
    package static let red = "\u{1b}[31m"
    package static let green = "\u{1b}[32m"
    package static let yellow = "\u{1b}[33m"
    package static let blue = "\u{1b}[34m"
    package static let magenta = "\u{1b}[35m"
    package static let cyan = "\u{1b}[36m"
    package static let dim = "\u{1b}[2m"
}
