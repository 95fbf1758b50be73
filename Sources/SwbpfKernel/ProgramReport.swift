import SwbpfBasics
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// How the kernel answered one program.
public enum Verdict: String, Sendable, Codable {
    /// The verifier accepted it.
    case accepted
    /// The verifier refused it: the log says why.
    case rejected
    /// The kernel would not verify this kind of program at all (EPERM, EINVAL with no log).
    case refusedByKernel = "refused-by-kernel"
    /// libbpf failed before the kernel could answer (an unresolved CO-RE relocation, a bad object).
    case failed
    /// The user may not load BPF programs (no CAP_BPF or CAP_SYS_ADMIN).
    case notPermitted = "not-permitted"

    public var title: String {
        switch self {
        case .accepted: return "accepted"
        case .rejected: return "rejected"
        case .refusedByKernel: return "refused by this kernel"
        case .failed: return "libbpf failed"
        case .notPermitted: return "not permitted"
        }
    }
}

/// One program of one app, verified: the veristat-style figures and, when it was refused, where
/// and why. This is what `swbpf verify --format json` prints, one object per line.
public struct ProgramReport: Sendable, Equatable, Codable {
    public var app: String
    public var object: String
    public var program: String
    public var section: String
    public var type: String
    /// Only where it is part of what the program is (tracing, lsm, cgroup programs).
    public var attachType: String?
    public var verdict: Verdict
    /// The errno the load failed with.
    public var errno: Int32?
    public var error: String?
    /// The verifier's complaint, or libbpf's, or the kernel's refusal.
    public var message: String?
    public var details: [String]
    /// Where the verifier stopped, with the file as the project names it when it is one of the
    /// app's kernel sources.
    public var source: VerifierLog.SourceLine?
    public var hint: VerifierHint?
    public var lastLines: [String]
    public var instructionsProcessed: Int?
    public var peakStates: Int?
    public var totalStates: Int?
    public var verificationMicroseconds: Int?
    public var stackDepth: [Int]?
    /// From open to load, in the loader (maps and BTF included).
    public var loadMicroseconds: Int
    /// Whether a program that loads can attach on this kernel (from the kernel probes); nil when
    /// it was not probed or attaching works.
    public var cannotAttach: String?
    public var logLevel: Int
    public var logTruncated: Bool

    /// Reads one loaded program: its verdict and, for a refusal, the message, source line and hint.
    package static func make(app: App, object: String, loaded: LoadedProgram, features: KernelFeatures?,
                     capabilities: Capabilities) -> ProgramReport {
        let kind = ProgramKind.of(section: loaded.section)
        let log = VerifierLog(loaded.kernelLog.isEmpty ? loaded.truncatedLog ?? "" : loaded.kernelLog, refused: loaded.status != 0)
        // libbpf guesses at a memlock limit on every EPERM; with memcg accounting (Linux 5.11+) that
        // limit is not what refused the program.
        let libbpfLines = loaded.libbpfLog.split(separator: "\n").map { String($0) }.filter { !$0.contains("try raising 'ulimit -l'") }
        let loadCalled = loaded.libbpfLog.contains("BPF program load failed")
        var verdict = Verdict.accepted
        var message: String?
        var hint: VerifierHint?
        if loaded.status != 0 {
            let verified = log.message != nil && log.instructionsProcessed != nil
            if verified {
                verdict = .rejected
                message = log.message
                hint = VerifierHint.forRefusal(message: log.message, details: log.details, libbpfLog: loaded.libbpfLog)
            } else if loadCalled && (loaded.status == EPERM || loaded.status == EACCES) && !capabilities.canLoadBPF {
                verdict = .notPermitted
                message = "loading BPF programs needs CAP_BPF (or CAP_SYS_ADMIN); this process has neither"
                hint = VerifierHint(cause: "missing capabilities", help: "run swbpf verify as root (sudo)")
            } else if loadCalled && [EPERM, EINVAL, EOPNOTSUPP, 524].contains(loaded.status) {
                verdict = .refusedByKernel
                message = "the kernel refused to load it before verifying: \(Errno.describe(loaded.status)), with no verifier log"
                hint = VerifierHint.kernelRefused(kind: kind, type: loaded.type, status: loaded.status)
            } else {
                verdict = .failed
                message = libbpfLines.last { !$0.contains("failed to load object") } ?? "libbpf failed: \(Errno.describe(loaded.status))"
                hint = VerifierHint.forRefusal(message: log.message, details: log.details, libbpfLog: loaded.libbpfLog)
            }
        }
        var source = log.source
        if let line = source, let file = app.bpfSources.first(where: { FileSystem.split($0).base == line.file }) {
            source?.file = file
        }
        let attachMatters = loaded.type == "tracing" || loaded.type == "lsm" || loaded.type.hasPrefix("cgroup") || loaded.type == "ext"
        return ProgramReport(
            app: app.name, object: object, program: loaded.name, section: loaded.section, type: loaded.type,
            attachType: attachMatters ? loaded.attachType : nil, verdict: verdict,
            errno: loaded.status == 0 ? nil : loaded.status, error: loaded.status == 0 ? nil : Errno.describe(loaded.status),
            message: message, details: verdict == .rejected ? log.details : [], source: verdict == .rejected ? source : nil, hint: hint,
            lastLines: verdict == .accepted ? [] : (log.lastLines.isEmpty ? Array(libbpfLines.suffix(8)) : log.lastLines),
            instructionsProcessed: log.instructionsProcessed, peakStates: log.peakStates, totalStates: log.totalStates,
            verificationMicroseconds: log.verificationMicroseconds, stackDepth: log.stackDepth,
            loadMicroseconds: Int(loaded.wallNanoseconds / 1000),
            cannotAttach: verdict == .accepted ? kind.flatMap { features?.attachProblem(for: $0) } : nil,
            logLevel: loaded.logLevel, logTruncated: loaded.truncated)
    }

    package init(app: String, object: String, program: String, section: String, type: String, attachType: String? = nil, verdict: Verdict, errno: Int32? = nil, error: String? = nil, message: String? = nil, details: [String], source: VerifierLog.SourceLine? = nil, hint: VerifierHint? = nil, lastLines: [String], instructionsProcessed: Int? = nil, peakStates: Int? = nil, totalStates: Int? = nil, verificationMicroseconds: Int? = nil, stackDepth: [Int]? = nil, loadMicroseconds: Int, cannotAttach: String? = nil, logLevel: Int, logTruncated: Bool) {
        self.app = app
        self.object = object
        self.program = program
        self.section = section
        self.type = type
        self.attachType = attachType
        self.verdict = verdict
        self.errno = errno
        self.error = error
        self.message = message
        self.details = details
        self.source = source
        self.hint = hint
        self.lastLines = lastLines
        self.instructionsProcessed = instructionsProcessed
        self.peakStates = peakStates
        self.totalStates = totalStates
        self.verificationMicroseconds = verificationMicroseconds
        self.stackDepth = stackDepth
        self.loadMicroseconds = loadMicroseconds
        self.cannotAttach = cannotAttach
        self.logLevel = logLevel
        self.logTruncated = logTruncated
    }
}
