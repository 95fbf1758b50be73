extension Planner {
    /// `clang FLAGS -Xclang -fno-pch-timestamp -x c-header .output/vmlinux.h -o .output/vmlinux.h.pch`:
    /// vmlinux.h parsed once for every kernel part that includes it first and is compiled with
    /// these flags (clang refuses a PCH built with other flags). Parsing its 3 MB is most of a
    /// BPF compile's time. Apps with their own bpf-cflags get a PCH of their own.
    package func precompiledHeaderStep(app: App) -> Step? {
        guard let header = generatedVmlinuxHeader else { return nil }
        let name = app.bpfCflags.isEmpty ? "vmlinux.h.pch" : "\(app.name).vmlinux.h.pch"
        // Without a timestamp, the PCH stays valid when vmlinux.h is rewritten with the same bytes
        // (from the cache, say): swbpf rebuilds the PCH whenever vmlinux.h's content changes.
        let groups = bpfFlagGroups(app: app)
            + [ArgumentGroup(.header, [.meant("-Xclang", .toClangProper), .meant("-fno-pch-timestamp", .noPrecompiledHeaderTimestamp),
                                       .meant("-x", .inputLanguage), .meant("c-header", .cHeader), .input(header)]),
               ArgumentGroup(.output, [.flag("-o"), .output(inOutput(name))])]
        return Step(kind: .precompiledHeader, app: app.bpfCflags.isEmpty ? nil : app.name, tool: toolchain.clang, groups: groups)
    }
}
