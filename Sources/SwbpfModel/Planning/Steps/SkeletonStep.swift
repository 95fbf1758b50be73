extension Planner {
    /// `bpftool gen skeleton .output/PART.bpf.o > .output/PART.skel.h` (or the configured name).
    /// A part whose source is not NAME.bpf.c (`trace_kern.c`) gets `name PART`: its struct is
    /// `trace_kern`, as the Makefile's `trace_kern.o` names it, not `trace_kern_bpf`.
    package func skeletonStep(app: App, part: KernelPart, linkedObject: String) -> Step {
        let named = part.sources.first?.hasSuffix(".bpf.c") == false
        return Step(kind: .skeleton, app: app.name, tool: toolchain.bpftool,
                    groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("skeleton")]),
                             ArgumentGroup(.objects, [.input(linkedObject)])]
                        + (named ? [ArgumentGroup(.subcommand, [.flag("name"), .flag(part.name)])] : []),
                    standardOutput: inOutput(part.skeleton))
    }

    /// The skeletons an app's user part may include: they are made before it compiles.
    package func skeletonHeaders(of app: App) -> [String] { app.kernelParts.map { inOutput($0.skeleton) } }
}
