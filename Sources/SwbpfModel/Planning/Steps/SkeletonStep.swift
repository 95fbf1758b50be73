extension Planner {
    /// `bpftool gen skeleton .output/PART.bpf.o > .output/PART.skel.h` (or the configured name).
    package func skeletonStep(app: App, part: KernelPart, linkedObject: String) -> Step {
        Step(kind: .skeleton, app: app.name, tool: toolchain.bpftool,
             groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("skeleton")]),
                      ArgumentGroup(.objects, [.input(linkedObject)])],
             standardOutput: inOutput(part.skeleton))
    }

    /// The skeletons an app's user part may include: they are made before it compiles.
    package func skeletonHeaders(of app: App) -> [String] { app.kernelParts.map { inOutput($0.skeleton) } }
}
