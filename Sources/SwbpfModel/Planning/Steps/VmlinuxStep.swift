extension Planner {
    /// `bpftool btf dump file BTF format c > .output/vmlinux.h`, when vmlinux.h is made from BTF
    /// rather than taken from the user.
    package func vmlinuxStep() -> Step? {
        guard case .btf(let path, _) = toolchain.vmlinux, let header = generatedVmlinuxHeader else { return nil }
        return Step(kind: .vmlinux, app: nil, tool: toolchain.bpftool,
                    groups: [ArgumentGroup(.subcommand, [.flag("btf"), .flag("dump"), .flag("file")]),
                             ArgumentGroup(.objects, [.input(relative(path))]),
                             ArgumentGroup(.subcommand, [.flag("format"), .flag("c")])],
                    standardOutput: header)
    }
}
