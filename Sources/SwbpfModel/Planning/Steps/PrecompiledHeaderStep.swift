import SwbpfBasics

extension Planner {
    /// `clang FLAGS -Xclang -fno-pch-timestamp -x c-header VMLINUX_H -o .output/vmlinux.h.pch`:
    /// vmlinux.h parsed once for every kernel part that includes it first and is compiled with
    /// these flags (clang refuses a PCH built with other flags), whether swbpf generates the
    /// header or the user gives or vendors it. Parsing its 3 MB is most of a BPF compile's time.
    /// Apps with their own bpf-cflags get a PCH of their own.
    package func precompiledHeaderStep(app: App) -> Step? {
        guard let header = vmlinuxHeader else { return nil }
        let name = app.bpfCflags.isEmpty ? "vmlinux.h.pch" : "\(app.name).vmlinux.h.pch"
        // Without a timestamp, the PCH stays valid when vmlinux.h is rewritten with the same bytes
        // (from the cache, say): swbpf rebuilds the PCH whenever vmlinux.h's content changes.
        let groups = bpfFlagGroups(app: app)
            + [ArgumentGroup(.header, [.meant("-Xclang", .toClangProper), .meant("-fno-pch-timestamp", .noPrecompiledHeaderTimestamp),
                                       .meant("-x", .inputLanguage), .meant("c-header", .cHeader), .input(header)]),
               ArgumentGroup(.output, [.flag("-o"), .output(inOutput(name))])]
        return Step(kind: .precompiledHeader, app: app.bpfCflags.isEmpty ? nil : app.name, tool: toolchain.clang, groups: groups)
    }

    /// Whether `source` of `app` can load the precompiled vmlinux.h: its first directive includes
    /// vmlinux.h, and that finds the precompiled one, not a vmlinux.h of its own directory (a
    /// quoted include looks there before any -I directory).
    package func loadsPrecompiledHeader(_ source: String, app: App) -> Bool {
        guard app.vmlinuxFirstSources.contains(source), let header = vmlinuxHeader else { return false }
        return !app.vmlinuxBesideSources.contains(source) || FileSystem.split(source).directory == FileSystem.split(header).directory
    }
}
