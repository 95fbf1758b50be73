import SwbpfBasics
import SwbpfKernel

/// The human view of `swbpf verify --kernel`: one row per program, one column per kernel, then
/// each refusal with its source line and what the kernel lacks.
package enum KernelMatrixRendering {
    package static func table(kernels: [KernelImage], verdicts: [KernelVerdict]) -> String {
        var rows: [[String]] = []
        var seen = Set<String>()
        for verdict in verdicts where seen.insert(verdict.report.app + "\u{0}" + verdict.report.program).inserted {
            let report = verdict.report
            rows.append([report.app, report.program] + kernels.map { kernel in
                verdicts.first { $0.kernel == kernel.name && $0.report.app == report.app && $0.report.program == report.program }
                    .map(cell) ?? "-"
            })
        }
        let header = ["APP", "PROGRAM"] + kernels.map(\.name)
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { $0.offset == cells.count - 1 ? $0.element : $0.element.padded(to: widths[$0.offset]) }
                .joined(separator: "  ") + "\n"
        }.joined()
    }

    /// `accepted`, `refused: no struct task_struct.rseq_len (rseq.bpf.c:8)`, `rejected (rseq.bpf.c:8)`.
    package static func cell(_ verdict: KernelVerdict) -> String {
        let report = verdict.report
        let place = report.source.map { " (\(FileSystem.split($0.file).base):\($0.line))" } ?? ""
        switch report.verdict {
        case .accepted:
            return report.cannotAttach == nil ? "accepted" : "accepted, cannot attach"
        case .rejected, .refusedByKernel, .failed, .notPermitted:
            if let missing = verdict.missing { return "refused: no \(missing)\(place)" }
            if verdict.undecided { return "undecided offline (--vm)" }
            return "\(report.verdict.title)\(place)"
        }
    }

    /// One diagnostic per program a kernel does not take.
    package static func problems(_ verdicts: [KernelVerdict]) -> String {
        verdicts.compactMap { verdict -> String? in
            let report = verdict.report
            let subject = "program \(report.program) (\(report.section)) of app \(report.app)"
            if verdict.undecided {
                return "note: on kernel \(verdict.kernel), \(subject) is refused by this machine's verifier, which checks its direct kernel accesses against this kernel's types: only --vm can tell\n"
            }
            if report.verdict == .accepted {
                guard let reason = report.cannotAttach else { return nil }
                return "warning: on kernel \(verdict.kernel), \(subject) loads but cannot attach: \(reason)\n"
            }
            let location = report.source.map { "\($0.file):\($0.line): " } ?? ""
            var lines = ["error: \(location)kernel \(verdict.kernel) refuses \(subject): "
                         + (verdict.missing.map { "it has no \($0)" } ?? report.message ?? report.error ?? "unknown error")]
            if let source = report.source { lines.append("\(String(source.line).leftPadded(to: 6)) | \(source.text)") }
            if verdict.missing == nil, let message = report.message { lines.append("note: " + message) }
            if let missing = verdict.missing {
                let guardedBy = missing.hasPrefix("kfunc ") ? "the call with bpf_ksym_exists()"
                    : missing.hasPrefix("kernel variable ") ? "the use with bpf_ksym_exists()"
                    : "the access with bpf_core_field_exists() or bpf_core_type_exists()"
                lines.append("help: guard \(guardedBy) and give a fallback, or require a newer kernel")
            } else if let hint = report.hint {
                lines.append("help: " + hint.help)
            }
            return lines.joined(separator: "\n") + "\n"
        }.joined()
    }

    package static func summary(kernels: [KernelImage], verdicts: [KernelVerdict], vm: Bool) -> String {
        var lines = kernels.map { kernel in
            let own = verdicts.filter { $0.kernel == kernel.name }
            let accepted = own.filter { $0.report.verdict == .accepted }.count
            return "swbpf: kernel \(kernel.name): \(accepted) of \(own.count) programs accepted"
        }
        if !vm {
            lines.append("note: checked offline: CO-RE types and fields only, against each kernel's BTF; helpers, kfuncs, program and map types and the verifier are this machine's. 'swbpf verify --vm' boots each kernel and asks its own verifier.")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
