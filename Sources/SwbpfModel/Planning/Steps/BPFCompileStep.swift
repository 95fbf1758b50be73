extension Planner {
    /// `clang -g -O2 -target bpf -D__TARGET_ARCH_x ... -c SOURCE -o .output/STEM.tmp.bpf.o`: one
    /// kernel-side source of `app` to a BPF object, with the precompiled vmlinux.h when it has one.
    package func bpfCompileStep(app: App, source: String, stem: String, precompiledHeader: String?) -> Step {
        let object = inOutput(stem + ".tmp.bpf.o")
        let groups = bpfFlagGroups(app: app)
            + (precompiledHeader.map { [ArgumentGroup(.precompiledHeader, [.meant("-include-pch", .includePrecompiledHeader),
                                                                             .path($0, .precompiledHeader)])] } ?? [])
            + [ArgumentGroup(.source, [.flag("-c"), .input(source)]),
               ArgumentGroup(.output, [.flag("-o"), .output(object)])]
        var step = Step(kind: .bpfCompile, app: app.name, tool: toolchain.clang, groups: groups,
                        orderOnlyInputs: (generatedVmlinuxHeader.map { [$0] } ?? []) + (precompiledHeader.map { [$0] } ?? [])
                            + libbpfHeadersReady,
                        depfile: inOutput(stem + ".tmp.bpf.d"))
        step.libbpf = libbpfInUse
        return step
    }

    /// Every word of an app's BPF compiles before the source: what a precompiled header must be
    /// built with to be usable by them.
    package func bpfFlagGroups(app: App) -> [ArgumentGroup] {
        [ArgumentGroup(.baseOptions, [.meant("-g", .bpfDebugInfo), .meant("-O2", .bpfOptimisation), .meant("-target", .bpfTarget),
                                      .meant(toolchain.target.bpfTarget, .bpfTarget),
                                      .meant("-D__TARGET_ARCH_\(toolchain.arch)", .targetArchitectureMacro)])]
            + pathMappingGroups
            + Self.flagGroups(.userFlags, [(.config(key: "bpf-cflags"), project.config.bpfCflags),
                                           (.appConfig(app: app.name, key: "bpf-cflags"), app.bpfCflags)])
            + [bpfIncludeGroup,
               ArgumentGroup(.systemIncludes, (toolchain.target.bpfSystemIncludes ?? toolchain.clangSystemIncludes)
                .flatMap { [.flag("-idirafter"), .searchDirectory($0)] })]
    }
}
