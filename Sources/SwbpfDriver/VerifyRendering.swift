import SwbpfBasics
import SwbpfKernel

/// The human view of `swbpf verify`: a veristat-style table, then each problem as a compiler-style
/// diagnostic with the source line, the verifier's last lines and a hint, then one summary line.
package enum VerifyRendering {
    package static func table(_ reports: [ProgramReport]) -> String {
        let header = ["APP", "PROGRAM", "SECTION", "TYPE", "VERDICT", "INSNS", "PEAK STATES", "TIME"]
        let rows = reports.map { report -> [String] in
            var verdict = report.verdict.title
            if report.verdict == .accepted, report.cannotAttach != nil { verdict += ", cannot attach here" }
            if report.verdict != .accepted, let errno = report.errno { verdict += " (\(Errno.name(errno)))" }
            return [report.app, report.program, report.section, report.type + (report.attachType.map { "/" + $0 } ?? ""), verdict,
                    report.instructionsProcessed.map(String.init) ?? "-", report.peakStates.map(String.init) ?? "-",
                    report.verificationMicroseconds.map(microseconds) ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        // Numbers are right-aligned, words left-aligned; the last column needs no padding.
        let numeric: Set<Int> = [5, 6, 7]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                numeric.contains(index) ? cell.leftPadded(to: widths[index]) : index == cells.count - 1 ? cell : cell.padded(to: widths[index])
            }.joined(separator: "  ").trimmed([" "]) + "\n"
        }
        return ([header] + rows).map(line).joined()
    }

    package static func microseconds(_ value: Int) -> String {
        value < 1000 ? "\(value) µs" : Decimal.string(Double(value) / 1000, places: 1) + " ms"
    }

    /// The diagnostic for a program that is not simply accepted, or nil.
    package static func problem(_ report: ProgramReport) -> String? {
        let subject = "program \(report.program) (\(report.section)) of app \(report.app)"
        switch report.verdict {
        case .accepted:
            guard let reason = report.cannotAttach else { return nil }
            return "warning: \(subject) passes the verifier but cannot attach on this kernel: \(reason)\n"
                + "help: it will fail when the app attaches it; 'swbpf doctor' shows what this kernel allows\n"
        case .rejected, .refusedByKernel, .failed, .notPermitted:
            var lines: [String] = []
            let location = report.source.map { "\($0.file):\($0.line): " } ?? ""
            let verb = report.verdict == .rejected ? "the verifier rejected" : report.verdict == .refusedByKernel ? "this kernel refused" : "could not load"
            lines.append("error: \(location)\(verb) \(subject): \(report.message ?? report.error ?? "unknown error")")
            if let source = report.source { lines.append("\(String(source.line).leftPadded(to: 6)) | \(source.text)") }
            lines += report.details.map { "note: " + $0 }
            if !report.lastLines.isEmpty {
                lines.append(report.verdict == .rejected ? "note: the verifier's last lines (the whole log: swbpf verify --log FILE):"
                                                         : "note: libbpf said:")
                lines += report.lastLines.suffix(8).map { "      " + $0 }
            }
            if report.logTruncated { lines.append("note: the most detailed log did not fit in its buffer; shown at log level \(report.logLevel)") }
            if let hint = report.hint {
                lines.append("cause: " + hint.cause)
                lines.append("help: " + hint.help)
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    package static func summary(_ reports: [ProgramReport]) -> String {
        let apps = Set(reports.map(\.app)).count
        var parts: [String] = []
        let accepted = reports.filter { $0.verdict == .accepted }
        if !accepted.isEmpty {
            let unattachable = accepted.filter { $0.cannotAttach != nil }.count
            parts.append("\(accepted.count) accepted" + (unattachable > 0 ? " (\(unattachable) cannot attach here)" : ""))
        }
        for (verdict, words) in [(Verdict.rejected, "rejected by the verifier"), (.refusedByKernel, "refused by this kernel"),
                                 (.failed, "failed in libbpf"), (.notPermitted, "not permitted")] {
            let count = reports.filter { $0.verdict == verdict }.count
            if count > 0 { parts.append("\(count) \(words)") }
        }
        let programs = "\(reports.count) program\(reports.count == 1 ? "" : "s")"
        return "swbpf: \(programs) in \(apps) app\(apps == 1 ? "" : "s"): " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
    }

    /// Every program's whole verifier log, each under a header line.
    package static func logs(_ verified: [VerifySession.VerifiedProgram]) -> String {
        verified.map { program in
            let report = program.report
            return "=== \(report.app): \(report.program) (\(report.section)): \(report.verdict.title), log level \(report.logLevel)\n"
                + program.log + (program.log.hasSuffix("\n") || program.log.isEmpty ? "" : "\n")
        }.joined(separator: "\n")
    }
}
