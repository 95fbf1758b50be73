extension Planner {
    /// `bpftool gen skeleton .output/APP.bpf.o > .output/APP.skel.h`.
    package func skeletonStep(app: App, linkedObject: String) -> Step {
        Step(kind: .skeleton, app: app.name, tool: toolchain.bpftool,
             groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("skeleton")]),
                      ArgumentGroup(.objects, [.input(linkedObject)])],
             standardOutput: skeletonHeader(of: app))
    }

    package func skeletonHeader(of app: App) -> String { inOutput(app.name + ".skel.h") }
}
