extension Planner {
    /// `cc -g -O2 -Wall -I... .output/.swbpf/swbpf-loader.c libbpf.a -lelf -lz -o .output/swbpf-loader`:
    /// the loader `swbpf verify` and `swbpf doctor` hand programs to the kernel with, compiled and
    /// linked in one command against the libbpf the apps link, so the kernel sees what an app's
    /// skeleton would send. Its source is swbpf's own (`KernelLoader.source`), written into the
    /// state directory.
    package func kernelLoaderStep() -> Step {
        // A libbpf built from a tree comes with its own UAPI headers, newer than the system's.
        let libbpfInclude = (toolchain.libbpf.includeDirectory.map { [StepArgument.joined("-I", relative($0), .searchDirectory)] } ?? [])
            + (toolchain.libbpf.uapiIncludeDirectory.map { [StepArgument.joined("-I", $0, .searchDirectory)] } ?? [])
        let groups = [ArgumentGroup(.baseOptions, [.flag("-g"), .flag("-O2"), .flag("-Wall")]),
                      ArgumentGroup(.includePaths, libbpfInclude),
                      ArgumentGroup(.source, [.input(KernelLoader.sourcePath(outputDirectory: output))]),
                      ArgumentGroup(.libbpf, [.input(relative(toolchain.libbpf.archive))], origin: .libbpf(toolchain.libbpf.origin)),
                      ArgumentGroup(.systemLibraries, [.flag("-lelf"), .flag("-lz")]),
                      ArgumentGroup(.output, [.flag("-o"), .output(inOutput(KernelLoader.binaryName))])]
        return Step(kind: .kernelLoader, app: nil, tool: toolchain.cc, groups: groups.filter { !$0.arguments.isEmpty },
                    depfile: inOutput(KernelLoader.binaryName + ".d"))
    }
}
