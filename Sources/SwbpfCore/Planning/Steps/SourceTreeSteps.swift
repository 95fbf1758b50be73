extension Planner {
    /// `make -C TREE/src BUILD_STATIC_ONLY=1 OBJDIR=OUT/libbpf DESTDIR=OUT INCLUDEDIR= LIBDIR= UAPIDIR= install`:
    /// libbpf.a and its headers from a libbpf source tree, by the tree's own Makefile, installed
    /// as libbpf-bootstrap's Makefile installs them (`OUT/libbpf.a`, `OUT/bpf/*.h`). make runs in
    /// the tree, so the directories it writes are absolute.
    func libbpfBuildStep() -> Step? {
        guard let build = toolchain.libbpf.sourceBuild, let make = toolchain.make else { return nil }
        let absoluteOutput = FileSystem.absolute(output, base: project.root)
        let groups = [
            ArgumentGroup(.makeDirectory, [.flag("-C"), .path(FileSystem.join(build.display, "src"), .sourceTree)]),
            ArgumentGroup(.makeVariables, [.flag("BUILD_STATIC_ONLY=1"), .flag("OBJDIR=" + FileSystem.join(absoluteOutput, "libbpf")),
                                           .joined("DESTDIR=", absoluteOutput, .staging),
                                           .flag("INCLUDEDIR="), .flag("LIBDIR="), .flag("UAPIDIR=")]),
            ArgumentGroup(.makeTarget, [.flag("install")]),
        ]
        return Step(kind: .libbpf, app: nil, tool: make, groups: groups, unlistedInputs: [toolchain.cc.path],
                    treeInputs: [TreeInput(path: build.display, excluded: Self.libbpfBuildOutputs)],
                    stagingDirectory: output, scratchDirectory: inOutput("libbpf"),
                    extraOutputs: [relative(toolchain.libbpf.archive)] + libbpfHeaders)
    }

    /// `make ARCH= CROSS_COMPILE= OUTPUT=OUT/bpftool/ -C TREE/src bootstrap`: the bootstrap
    /// bpftool (enough for btf dump, gen object and gen skeleton), for the host even when ARCH
    /// names another target for the BPF code.
    func bpftoolBuildStep() -> Step? {
        guard let build = toolchain.bpftoolSource, let make = toolchain.make else { return nil }
        let directory = inOutput("bpftool")
        let groups = [
            ArgumentGroup(.makeVariables, [.flag("ARCH="), .flag("CROSS_COMPILE="),
                                           .joined("OUTPUT=", FileSystem.absolute(directory, base: project.root) + "/", .staging)]),
            ArgumentGroup(.makeDirectory, [.flag("-C"), .path(FileSystem.join(build.display, "src"), .sourceTree)]),
            ArgumentGroup(.makeTarget, [.flag("bootstrap")]),
        ]
        return Step(kind: .bpftool, app: nil, tool: make, groups: groups, unlistedInputs: [toolchain.cc.path],
                    treeInputs: [TreeInput(path: build.display, excluded: Self.bpftoolBuildOutputs)],
                    stagingDirectory: directory, extraOutputs: [toolchain.bpftool.path])
    }

    /// What a compile that may include libbpf's headers waits for: one of the headers the libbpf
    /// step installs (the step writes them all at once).
    var libbpfHeadersReady: [String] { libbpfHeaders.prefix(1).map { $0 } }

    /// What builds in the trees themselves leave there (`make -C src` without OBJDIR or OUTPUT),
    /// and their documentation, CI and fuzzing files, which no build reads: none of it is an
    /// input, and a no-op build stats a fifth fewer files.
    static let libbpfBuildOutputs = ["src/staticobjs", "src/sharedobjs", "docs", "ci", "fuzz", "*.o", "*.a", "*.so", "*.pc"]
    static let bpftoolBuildOutputs = ["src/bootstrap", "src/libbpf", "src/feature", "src/bpftool", "src/vmlinux.h", "docs", "bash-completion",
                                      "libbpf/src/staticobjs", "libbpf/src/sharedobjs", "libbpf/docs", "libbpf/ci", "libbpf/fuzz",
                                      "*.o", "*.d", "*.a", "*.so", "*.pc", "*.skel.h"]
}
