import SwbpfBasics

extension Planner {
    /// `make -C TREE/src BUILD_STATIC_ONLY=1 OBJDIR=OUT/libbpf DESTDIR=OUT INCLUDEDIR= LIBDIR= UAPIDIR= install`:
    /// libbpf.a and its headers from a libbpf source tree, by the tree's own Makefile, installed
    /// as libbpf-bootstrap's Makefile installs them (`OUT/libbpf.a`, `OUT/bpf/*.h`). make runs in
    /// the tree, so the directories it writes are absolute.
    package func libbpfBuildStep() -> Step? {
        guard let build = toolchain.libbpf.sourceBuild, let make = toolchain.make else { return nil }
        let absoluteOutput = FileSystem.absolute(output, base: project.root)
        let groups = [
            ArgumentGroup(.makeDirectory, [.flag("-C"), .path(FileSystem.join(build.display, "src"), .sourceTree)]),
            ArgumentGroup(.makeVariables, [.flag("BUILD_STATIC_ONLY=1"), .flag("OBJDIR=" + FileSystem.join(absoluteOutput, "libbpf")),
                                           .joined("DESTDIR=", absoluteOutput, .staging),
                                           .flag("INCLUDEDIR="), .flag("LIBDIR="), .flag("UAPIDIR=")]),
        ] + libbpfCompilerGroups + treePathMapping(build.tree, as: "libbpf")
          + [ArgumentGroup(.makeTarget, [.flag("install")])]
        var step = Step(kind: .libbpf, app: nil, tool: make, groups: groups, unlistedInputs: [toolchain.cc.path],
                        treeInputs: [TreeInput(path: build.display, excluded: Self.libbpfBuildOutputs,
                                               pathMapped: canMapPaths(of: build.tree))],
                        stagingDirectory: output, scratchDirectory: inOutput("libbpf"),
                        extraOutputs: [libbpfArchive] + libbpfHeaders)
        step.unsetEnvironment = Self.makeSteering
        return step
    }

    /// `make ARCH= CROSS_COMPILE= OUTPUT=OUT/bpftool/ -C TREE/src bootstrap`: the bootstrap
    /// bpftool (enough for btf dump, gen object and gen skeleton), for the host even when ARCH
    /// names another target for the BPF code.
    package func bpftoolBuildStep() -> Step? {
        guard let build = toolchain.bpftoolSource, let make = toolchain.make else { return nil }
        let directory = inOutput("bpftool")
        let groups = [
            ArgumentGroup(.makeVariables, [.flag("ARCH="), .flag("CROSS_COMPILE="),
                                           .joined("OUTPUT=", FileSystem.absolute(directory, base: project.root) + "/", .staging)]),
            ArgumentGroup(.makeDirectory, [.flag("-C"), .path(FileSystem.join(build.display, "src"), .sourceTree)]),
        ] + treePathMapping(build.tree, as: "bpftool") + [
            ArgumentGroup(.makeTarget, [.flag("bootstrap")]),
        ]
        var step = Step(kind: .bpftool, app: nil, tool: make, groups: groups, unlistedInputs: [toolchain.cc.path],
                        treeInputs: [TreeInput(path: build.display, excluded: Self.bpftoolBuildOutputs,
                                               pathMapped: canMapPaths(of: build.tree))],
                        stagingDirectory: directory, extraOutputs: [toolchain.bpftool.path])
        step.unsetEnvironment = Self.makeSteering
        return step
    }

    /// `CC=...` for libbpf's Makefile: the CC knob as given, or for a non-host target the
    /// target's compiler (the libbpf the binaries link must be built for their machine).
    package var libbpfCompilerGroups: [ArgumentGroup] {
        if let compiler = settings.makeCompiler { return [ArgumentGroup(.makeVariables, [.flag("CC=" + compiler)], origin: .knob(.cc))] }
        guard !toolchain.target.isHost else { return [] }
        let compiler = ([toolchain.cc.displayName] + toolchain.cc.leadingArguments).joined(separator: " ")
        return [ArgumentGroup(.makeVariables, [.flag("CC=" + compiler)], origin: .target(toolchain.target.compilerOrigin))]
    }

    /// `EXTRA_CFLAGS=-ffile-prefix-map=TREE=NAME -ffile-prefix-map=ROOT=.`, which both Makefiles
    /// add to every compile (bpftool's passes it on to the libbpf it builds): make compiles in the
    /// tree, so without it the debug info of libbpf.a and of bpftool names the tree's directory
    /// (DW_AT_comp_dir) and the project's (bpftool includes headers from its OUTPUT), and a copy
    /// of the tree elsewhere makes other bytes. With it, the products are the same in any
    /// checkout (debug info names `libbpf/src/bpf.c`), and the cache shares them.
    package func treePathMapping(_ tree: String, as name: String) -> [ArgumentGroup] {
        guard canMapPaths(of: tree) else { return [] }
        return [ArgumentGroup(.makeVariables, [.flag("EXTRA_CFLAGS=-ffile-prefix-map=\(tree)=\(name) -ffile-prefix-map=\(project.root)=.")])]
    }

    /// Whether the tree's and the project's paths can be written in EXTRA_CFLAGS: make splits
    /// it into words and hands it to the shell, so only paths of plain characters (and no `=`,
    /// which ends the option's old prefix) are mapped; any other tree is keyed by its path.
    package func canMapPaths(of tree: String) -> Bool {
        [tree, project.root].allSatisfy { $0.utf8.allSatisfy(Self.plainPathCharacters.contains) }
    }

    private static let plainPathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+,:@%~-".utf8)

    /// The variables the libbpf and bpftool Makefiles (and make itself) read from the environment.
    /// A parent make's MAKEFLAGS would pass its own variables and jobserver on.
    package static let makeSteering = ["CC", "LD", "AR", "CFLAGS", "CPPFLAGS", "LDFLAGS", "EXTRA_CFLAGS", "EXTRA_LDFLAGS", "EXTRA_WARNINGS",
                               "CROSS_COMPILE", "ARCH", "HOSTCC", "HOSTLD", "HOSTAR", "HOSTCFLAGS", "HOSTLDFLAGS", "LLVM", "LLVM_CONFIG",
                               "CLANG", "LLVM_STRIP", "OUTPUT", "OBJDIR", "DESTDIR", "PREFIX", "LIBDIR", "INCLUDEDIR", "UAPIDIR",
                               "BUILD_STATIC_ONLY", "V", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "GNUMAKEFLAGS"]

    /// What a compile that may include libbpf's headers waits for: one of the headers the libbpf
    /// step installs (the step writes them all at once).
    package var libbpfHeadersReady: [String] { libbpfHeaders.prefix(1).map { $0 } }

    /// What builds in the trees themselves leave there (`make -C src` without OBJDIR or OUTPUT),
    /// and their documentation, CI and fuzzing files, which no build reads: none of it is an
    /// input, and a no-op build stats a fifth fewer files.
    package static let libbpfBuildOutputs = ["src/staticobjs", "src/sharedobjs", "docs", "ci", "fuzz", "*.o", "*.a", "*.so", "*.pc"]
    package static let bpftoolBuildOutputs = ["src/bootstrap", "src/libbpf", "src/feature", "src/bpftool", "src/vmlinux.h", "docs", "bash-completion",
                                      "libbpf/src/staticobjs", "libbpf/src/sharedobjs", "libbpf/docs", "libbpf/ci", "libbpf/fuzz",
                                      "*.o", "*.d", "*.a", "*.so", "*.pc", "*.skel.h"]
}
