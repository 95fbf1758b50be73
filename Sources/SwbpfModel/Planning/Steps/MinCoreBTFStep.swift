import SwbpfBasics

/// A kernel an app carries a small BTF for (`btf-for`), as the driver resolved it: planning reads
/// no files, so the kernel's full BTF is already extracted (into the shared cache) and its release
/// known.
public struct KernelBTF: Hashable, Sendable, Codable {
    /// As `btf-for` or `--kernel` wrote it.
    public var name: String
    /// The kernel's whole BTF, absolute.
    public var btf: String
    /// What `uname -r` says on that kernel: the installed file's name, which the app's user part
    /// looks for.
    public var release: String

    public init(name: String, btf: String, release: String) {
        self.name = name
        self.btf = btf
        self.release = release
    }

    /// A release from a kernel image's version string (`6.1.0-57-cloud-amd64 (debian-kernel@...) #1
    /// SMP ...`), or, for a BTF file or a vmlinux that carries none, from the file's name as BTFHub
    /// names them (`5.4.0-1009-aws.btf`, `vmlinux-5.4.0-1009-aws`). Nil when neither gives a name
    /// that can be a file name.
    public static func release(version: String?, file name: String) -> String? {
        if let word = version?.split(separator: " ").first.map(String.init), isFileName(word) { return word }
        var base = FileSystem.split(name).base
        for suffix in [".tar.xz", ".btf"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
        if base.hasPrefix("vmlinux-") { base = String(base.dropFirst("vmlinux-".count)) }
        return isFileName(base) && base != "vmlinux" ? base : nil
    }

    private static func isFileName(_ word: String) -> Bool {
        !word.isEmpty && !word.hasPrefix(".") && !word.hasPrefix("-") && !word.contains("/") && word.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension Planner {
    /// `.output/btf/APP/RELEASE.btf`: named by the release, as the app's user part looks it up.
    package func minCoreBTFPath(app: App, kernel: KernelBTF) -> String {
        inOutput("btf/\(app.name)/\(kernel.release).btf")
    }

    /// `bpftool gen min_core_btf KERNEL.btf .output/btf/APP/RELEASE.btf OBJECTS...`: the kernel's types
    /// that the app's CO-RE relocations name, and nothing else (a few hundred bytes instead of
    /// megabytes), for a kernel that has no /sys/kernel/btf/vmlinux.
    package func minCoreBTFStep(app: App, kernel: KernelBTF, objects: [String]) -> Step {
        let origin: ArgumentOrigin = project.config.apps[app.name]?.btfFor.contains(kernel.name) == true
            ? .appConfig(app: app.name, key: "btf-for") : .commandLine("--kernel")
        return Step(kind: .minCoreBTF, app: app.name, tool: toolchain.bpftool,
                    groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("min_core_btf")]),
                             ArgumentGroup(.kernelBTF, [.input(relative(kernel.btf))], origin: origin),
                             ArgumentGroup(.output, [.output(minCoreBTFPath(app: app, kernel: kernel))]),
                             ArgumentGroup(.objects, objects.map(StepArgument.input))])
    }
}
