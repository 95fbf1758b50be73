import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// The one note that says which libbpf, bpftool and vmlinux.h a build uses:
/// `note: libbpf 1.6.0 from ../../libbpf (source), bpftool from ../../bpftool (source), vmlinux.h from ../../vmlinux.h/include/x86`.
///
/// Before it, a line for each source tree the build saw and did not use (half-populated, not
/// checked out, not trusted), or uses without trusting it: a fall-back is never silent.
///
/// It is shown when what it says changes, not on every build: the last text shown is kept in
/// `<output>/.swbpf/announced` (`ShownNotes`). A build that uses only the system's libbpf and
/// bpftool and the running kernel's BTF, saw no tree, and never used anything else, stays silent.
package enum ToolchainAnnouncement {
    package static let subject = "toolchain"

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
        if toolchain.bpftoolSource != nil || toolchain.libbpf.sourceBuild != nil || !toolchain.target.isHost
            || !toolchain.treeNotes.isEmpty { return true }
        if case .header(_, .vendored) = toolchain.vmlinux { return true }
        return false
    }

    /// Reports the tree notes and the note when they differ from the last ones shown.
    package static func announce(_ toolchain: Toolchain, notes: inout ShownNotes, reporter: BuildReporter, project: Project) {
        let note = Diagnostic(.note, targetSummary(toolchain, project: project) + line(for: toolchain, root: project.root))
        notes.report(toolchain.treeNotes + [note], as: subject, worthSaying: isNotable(toolchain), to: reporter)
    }
}
