extension Planner {
    /// `bpftool gen object .output/PART.bpf.o OBJECTS...`: links the BPF objects of one kernel part of
    /// an app into one.
    package func bpfLinkStep(app: App, part: KernelPart, objects: [String]) -> Step {
        var step = Step(kind: .bpfLink, app: app.name, tool: toolchain.bpftool,
                        groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("object")]),
                                 ArgumentGroup(.output, [.output(inOutput(part.name + ".bpf.o"))]),
                                 ArgumentGroup(.objects, objects.map(StepArgument.input))])
        // An undeclared libbpf macro compiles as a call to an unknown function; linking finds it.
        step.libbpf = libbpfInUse
        return step
    }
}
