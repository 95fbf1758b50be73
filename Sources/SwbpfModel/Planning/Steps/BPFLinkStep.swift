extension Planner {
    /// `bpftool gen object .output/APP.bpf.o OBJECTS...`: links an app's BPF objects into one.
    package func bpfLinkStep(app: App, objects: [String]) -> Step {
        var step = Step(kind: .bpfLink, app: app.name, tool: toolchain.bpftool,
                        groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("object")]),
                                 ArgumentGroup(.output, [.output(inOutput(app.name + ".bpf.o"))]),
                                 ArgumentGroup(.objects, objects.map(StepArgument.input))])
        // An undeclared libbpf macro compiles as a call to an unknown function; linking finds it.
        step.libbpf = libbpfInUse
        return step
    }
}
