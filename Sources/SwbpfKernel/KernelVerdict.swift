/// One program checked against one other kernel: offline (CO-RE against its BTF, on this machine's
/// verifier) or in a virtual machine running it (its own verifier).
public struct KernelVerdict: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable {
        /// CO-RE relocations against the kernel's BTF; everything else is this machine's kernel.
        case btf
        /// Loaded by the kernel itself, booted with qemu.
        case vm
    }

    public var kernel: String
    public var mode: Mode
    /// The kernel type, field or function the program needs and the kernel lacks.
    public var missing: String?
    /// Offline, a refusal that is not a missing type or field says nothing about that kernel: the
    /// verifier that refused is this machine's, checking direct BTF accesses (fentry, iter, lsm)
    /// relocated for the other kernel against its own types. Only --vm decides it.
    public var undecided: Bool
    public var report: ProgramReport

    /// `log` is the verifier's: where libbpf refused before the verifier's verdict (an unresolved
    /// relocation), its last quoted source line is still where the program stopped.
    package init(kernel: String, mode: Mode, report: ProgramReport, log: String) {
        self.kernel = kernel
        self.mode = mode
        self.report = report
        if report.verdict != .accepted, report.source == nil { self.report.source = VerifierLog(log, refused: true).source }
        self.missing = report.verdict == .accepted ? nil : Self.missing(libbpfLog: report.lastLines + [report.message ?? ""], details: report.details)
        self.undecided = mode == .btf && report.verdict != .accepted && missing == nil
    }

    /// What libbpf says is missing: `failed to resolve CO-RE relocation <byte_off> [5] struct
    /// task_struct.rseq_len (0:208 @ offset 2688)` (a field or type of the kernel's BTF), or
    /// `extern (func ksym) 'bpf_iter_num_new': not found in kernel or module BTFs` (a kfunc).
    package static func missing(libbpfLog lines: [String], details: [String]) -> String? {
        for line in lines + details {
            if let range = line.firstRange(of: "failed to resolve CO-RE relocation ") {
                // `<kind> [id] struct name.field (spec)`: the words between the id and the spec.
                let words = line[range.upperBound...].split(separator: " ")
                let named = words.drop { !$0.hasPrefix("[") }.dropFirst().prefix { !$0.hasPrefix("(") }
                if !named.isEmpty { return named.joined(separator: " ") }
            }
            if let range = line.firstRange(of: "extern (func ksym) '") {
                let name = line[range.upperBound...].prefix { $0 != "'" }
                return "kfunc \(name)"
            }
            if let range = line.firstRange(of: "extern (var ksym) '") {
                let name = line[range.upperBound...].prefix { $0 != "'" }
                return "kernel variable \(name)"
            }
        }
        return nil
    }
}
