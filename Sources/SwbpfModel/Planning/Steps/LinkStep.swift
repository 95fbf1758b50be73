import SwbpfBasics

extension Planner {
    /// `cc CFLAGS OBJECTS libbpf.a LDFLAGS... -lelf -lz -o BINARY`: the app's user-space binary;
    /// with `-static` and libelf's static libraries for a static link. A program that does not
    /// link libbpf goes without libbpf.a, -lelf and -lz; a program links its own `libs` and
    /// `ldflags`, not the apps' project-wide ones (a Makefile links its extra programs by their own rule). For a non-host target the
    /// binary must be an ELF file for the target's machine, or the step fails.
    package func linkStep(app: App, objects: [String]) -> Step {
        let binary = FileSystem.join(binaryDirectory, app.name)
        let config = project.config
        let groups = [ArgumentGroup(.baseOptions, settings.cflags.map(StepArgument.flag), origin: settings.cflagsOrigin),
                      ArgumentGroup(.objects, objects.map(StepArgument.input))]
            + (app.linksLibbpf ? [ArgumentGroup(.libbpf, [.input(libbpfArchive)], origin: .libbpf(toolchain.libbpf.origin))] : [])
            + Self.flagGroups(.linkerFlags, [(.knob(.ldflags), settings.ldflags), (.knob(.extraLdflags), settings.extraLdflags),
                                             (.config(key: "ldflags"), app.isProgram ? [] : config.ldflags),
                                             (app.configOrigin("ldflags"), app.ldflags)])
            + Self.flagGroups(.libraries, [(.config(key: "libs"), app.isProgram ? [] : Self.libraryWords(config.libs)),
                                           (app.configOrigin("libs"), Self.libraryWords(app.libs))])
            + (app.linksLibbpf ? [ArgumentGroup(.systemLibraries, toolchain.target.libraries.map(StepArgument.flag),
                                                origin: toolchain.target.selection.staticLink ? .target(toolchain.target.librariesOrigin) : .swbpf)] : [])
            + staticLinkGroups
            + [ArgumentGroup(.output, [.flag("-o"), .output(binary)])]
        var step = Step(kind: .link, app: app.name, tool: toolchain.cc, groups: groups)
        step.postcondition = toolchain.target.expectedBinary.map(StepPostcondition.elf)
        return step
    }

    /// `-static`, for fully static binaries.
    package var staticLinkGroups: [ArgumentGroup] {
        let selection = toolchain.target.selection
        guard selection.staticLink else { return [] }
        return [ArgumentGroup(.linkerFlags, [.flag("-static")], origin: .target(selection.staticOrigin ?? "--static"))]
    }

    /// `m` becomes `-lm`; words that are already options or paths pass unchanged.
    package static func libraryWords(_ libs: [String]) -> [String] {
        libs.map { $0.hasPrefix("-") || $0.contains("/") ? $0 : "-l" + $0 }
    }
}
