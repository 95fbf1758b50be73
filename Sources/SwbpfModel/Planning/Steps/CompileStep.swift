extension Planner {
    /// `cc CFLAGS -I... -c SOURCE -o .output/STEM.o`: a user-space source of `app`, or a shared
    /// helper when `app` is nil. An app's sources may include its skeleton, so they wait for it.
    package func userCompileStep(app: App?, source: String, stem: String) -> Step {
        let object = inOutput(stem + ".o")
        let groups = [ArgumentGroup(.baseOptions, settings.cflags.map(StepArgument.flag), origin: settings.cflagsOrigin)]
            + pathMappingGroups + [userIncludeGroup]
            + Self.flagGroups(.userFlags, [(.config(key: "cflags"), project.config.cflags)]
                + (app.map { [($0.configOrigin("cflags"), $0.cflags)] } ?? []))
            + [ArgumentGroup(.source, [.flag("-c"), .input(source)]),
               ArgumentGroup(.output, [.flag("-o"), .output(object)])]
        return Step(kind: .compile, app: app?.name, tool: toolchain.cc, groups: groups,
                    orderOnlyInputs: (app.map(skeletonHeaders) ?? []) + libbpfHeadersReady, depfile: inOutput(stem + ".d"))
    }
}
