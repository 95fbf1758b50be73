import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// The one note that says which libbpf, bpftool and vmlinux.h a build uses:
/// `note: libbpf 1.6.0 from ../../libbpf (source), bpftool from ../../bpftool (source), vmlinux.h from ../../vmlinux.h/include/x86`.
///
/// It is shown when what it says changes, not on every build: the last line shown is kept in a
/// file of its own, `<output>/.swbpf/announced` (what the console said is neither a build record
/// nor a tool's answer). A build that uses only the system's libbpf and bpftool and the running
/// kernel's BTF, and never used anything else, stays silent.
package enum ToolchainAnnouncement {
    package static let fileName = "announced"

    package static func line(for toolchain: Toolchain, root: String) -> String {
        let bpftool: String
        if let source = toolchain.bpftoolSource {
            bpftool = "bpftool from \(source.display) (source)"
        } else {
            bpftool = "bpftool \(toolchain.bpftool.version) from \(toolchain.bpftool.path)"
        }
        let vmlinux: String
        switch toolchain.vmlinux {
        case .header(let path, .projectDirectory):
            vmlinux = "vmlinux.h from the project directory (\(FileSystem.display(path, relativeTo: root)))"
        case .header(_, let origin):
            vmlinux = "vmlinux.h from " + (toolchain.vmlinux.includeDirectory(root: root) ?? origin.description)
        case .btf(_, .runningKernel):
            vmlinux = "vmlinux.h from the running kernel's BTF"
        case .btf(let path, _):
            vmlinux = "vmlinux.h from the BTF in " + FileSystem.display(path, relativeTo: root)
        }
        return "\(toolchain.libbpf.summary(root: root)), \(bpftool), \(vmlinux)"
    }

    /// For a non-host target: what it is, who chose it, its compiler and where its products go.
    package static func targetSummary(_ toolchain: Toolchain, project: Project) -> String {
        let target = toolchain.target
        guard !target.isHost, let arch = target.selection.arch else { return "" }
        let compiler = ([toolchain.cc.displayName] + toolchain.cc.leadingArguments).joined(separator: " ")
        return "building for \(arch.name) (\(arch.triple), from \(target.selection.origin)) with \(compiler); outputs in "
            + "\(project.outputDirectory), binaries in \(project.binaryDirectory)/; "
    }

    /// Whether anything comes from a source tree or a vendored directory: what a user who cloned a
    /// project with submodules should be told about.
    package static func isNotable(_ toolchain: Toolchain) -> Bool {
        if toolchain.bpftoolSource != nil || toolchain.libbpf.sourceBuild != nil || !toolchain.target.isHost { return true }
        if case .header(_, .vendored) = toolchain.vmlinux { return true }
        return false
    }

    /// Reports the note when it differs from the last one shown, and returns it for `remember`.
    package static func announce(_ toolchain: Toolchain, reporter: BuildReporter, project: Project) -> String? {
        let text = targetSummary(toolchain, project: project) + line(for: toolchain, root: project.root)
        let previous = FileSystem.readRegularFile(path(of: project), limit: 1 << 16)
        let shown: String?
        switch previous {
        case .contents(let bytes): shown = String(decoding: bytes, as: UTF8.self).trimmed(["\n"])
        case .missing, .refused: shown = nil
        }
        guard shown != text, shown != nil || isNotable(toolchain) else { return nil }
        reporter.handle(.diagnostic(Diagnostic(.note, text)))
        return text
    }

    /// Records `text` as the note last shown.
    package static func remember(_ text: String, project: Project) throws {
        try FileSystem.writeAtomically(path(of: project), Array((text + "\n").utf8))
    }

    private static func path(of project: Project) -> String {
        FileSystem.join(OpenedProject.stateDirectory(of: project), fileName)
    }
}
