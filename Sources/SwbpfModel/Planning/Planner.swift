import SwbpfBasics

/// The Makefile knobs that shape commands (everything else comes from the project and toolchain).
public struct BuildSettings: Equatable, Sendable {
    /// `CFLAGS`: replaces the default `-g -Wall`, as `make CFLAGS=...` does.
    public var cflags: [String] = ["-g", "-Wall"]
    public var cflagsFromEnvironment = false
    public var ldflags: [String] = []
    public var extraLdflags: [String] = []
    /// `CC` as given (`ccache cc`), which libbpf's Makefile is given too; nil for its default cc.
    public var makeCompiler: String?
    /// `SWIFTFLAGS`: extra words for Swift compiles.
    public var swiftFlags: [String] = []
    /// `SWIFT_DEBUG`: 1 for a debug build of Swift apps, 0 for the default optimised one; nil
    /// leaves it to swbpf.toml's swift-debug.
    public var swiftDebug: Bool?

    public init() {}

    public init(environment: [String: String]) {
        if let value = environment[FlagKnob.cflags.rawValue] {
            cflags = Shell.splitWords(value)
            cflagsFromEnvironment = true
        }
        if let value = environment[FlagKnob.ldflags.rawValue] { ldflags = Shell.splitWords(value) }
        if let value = environment[FlagKnob.extraLdflags.rawValue] { extraLdflags = Shell.splitWords(value) }
        if let value = environment[FlagKnob.swiftFlags.rawValue] { swiftFlags = Shell.splitWords(value) }
        if let value = environment[FlagKnob.swiftDebug.rawValue], !value.isEmpty { swiftDebug = !["0", "no", "false"].contains(value) }
        if let value = environment[FlagKnob.cc.rawValue], !Shell.splitWords(value).isEmpty {
            makeCompiler = Shell.splitWords(value).joined(separator: " ")
        }
    }

    package var cflagsOrigin: ArgumentOrigin { cflagsFromEnvironment ? .knob(.cflags) : .defaultCflags }
}

/// Turns (project, toolchain, settings) into the build graph. Pure: it reads no files and runs
/// nothing, so the same inputs always give the same steps. Each kind of step is planned by one
/// function in Steps/; `plan()` only composes them, and `GraphBuilder` numbers the steps and
/// derives every dependency from who produces each input.
public struct Planner {
    public let project: Project
    public let toolchain: Toolchain
    public let settings: BuildSettings
    /// The kernels of the apps' `btf-for`, resolved, by the name written there. A name missing
    /// here plans no step (`swbpf clean` plans with the kernels it knows without a process).
    public let kernelBTFs: [String: KernelBTF]
    /// The output directory as commands name it.
    package let output: String

    /// Computed once: every compile shares them, and a no-op build plans too.
    package let bpfIncludeGroup: ArgumentGroup
    package let userIncludeGroup: ArgumentGroup
    package let libbpfArchive: String
    package let binaryDirectory: String
    /// The libbpf the kernel parts see, for failure hints.
    package let libbpfInUse: LibbpfInUse
    /// The headers the libbpf step installs, when libbpf is built from source.
    package let libbpfHeaders: [String]

    public init(project: Project, toolchain: Toolchain, settings: BuildSettings, kernelBTFs: [String: KernelBTF] = [:]) {
        self.project = project
        self.kernelBTFs = kernelBTFs
        self.toolchain = toolchain
        self.settings = settings
        let root = project.root
        func relative(_ path: String) -> String { FileSystem.display(path, relativeTo: root) }
        output = relative(project.outputDirectory)
        libbpfArchive = relative(toolchain.libbpf.archive)
        binaryDirectory = relative(project.binaryDirectory)
        let output = self.output
        let groups = [true, false].map { bpf in
            ArgumentGroup(.includePaths, Self.includeDirectories(bpf: bpf, output: output, project: project, toolchain: toolchain,
                                                                 relative: relative).map { .joined("-I", $0, .searchDirectory) })
        }
        bpfIncludeGroup = groups[0]
        userIncludeGroup = groups[1]
        libbpfInUse = LibbpfInUse(summary: toolchain.libbpf.summary(root: root), fromSource: toolchain.libbpf.sourceBuild != nil,
                                  version: toolchain.libbpf.version)
        libbpfHeaders = (toolchain.libbpf.sourceBuild?.headers ?? []).map { FileSystem.join(output, "bpf/" + $0) }
    }

    public func plan() throws -> BuildPlan {
        var graph = GraphBuilder()
        // Producers before their consumers: the trees' builds come first.
        if let libbpf = libbpfBuildStep() { try graph.add(libbpf) }
        if let bpftool = bpftoolBuildStep() { try graph.add(bpftool) }
        if let vmlinux = vmlinuxStep() { try graph.add(vmlinux) }
        var helperObjects: [String: String] = [:]
        for helper in project.helperSources {
            let object = inOutput(Self.stem(of: helper, suffix: ".c") + ".o")
            try graph.add(userCompileStep(app: nil, source: helper, stem: Self.stem(of: helper, suffix: ".c")))
            helperObjects[helper] = object
        }
        var precompiledHeaders = Set<String>()
        // A Swift app is not built for another machine (`Project.selectTarget` leaves it out).
        for app in project.apps where !app.isSwift || project.buildsSwift(app) {
            var precompiledHeader: String?
            if app.bpfSources.contains(where: { loadsPrecompiledHeader($0, app: app) }), let step = precompiledHeaderStep(app: app) {
                precompiledHeader = step.primaryOutput
                if precompiledHeaders.insert(step.primaryOutput).inserted { try graph.add(step) }
            }
            var linkedObjects: [String] = []
            for part in app.kernelParts {
                var bpfObjects: [String] = []
                for (index, source) in part.sources.enumerated() {
                    let step = bpfCompileStep(app: app, source: source,
                                              stem: index == 0 ? part.name : "\(part.name).\(Self.stem(of: source, suffix: ".bpf.c"))",
                                              precompiledHeader: loadsPrecompiledHeader(source, app: app) ? precompiledHeader : nil)
                    try graph.add(step)
                    bpfObjects.append(step.primaryOutput)
                }
                let linked = bpfLinkStep(app: app, part: part, objects: bpfObjects)
                try graph.add(linked)
                linkedObjects.append(linked.primaryOutput)
                try graph.add(skeletonStep(app: app, part: part, linkedObject: linked.primaryOutput))
            }
            for kernel in app.btfFor.compactMap({ kernelBTFs[$0] }) {
                try graph.add(minCoreBTFStep(app: app, kernel: kernel, objects: linkedObjects))
            }
            if app.isSwift {
                try addSwiftSteps(app: app, helperObjects: app.helpers.compactMap { helperObjects[$0] }, to: &graph)
                continue
            }
            var objects: [String] = []
            for (index, source) in app.userSources.enumerated() {
                let step = userCompileStep(app: app, source: source,
                                           stem: index == 0 ? app.name : "\(app.name).\(Self.stem(of: source, suffix: ".c"))")
                try graph.add(step)
                objects.append(step.primaryOutput)
            }
            objects += app.helpers.compactMap { helperObjects[$0] }
            let link = linkStep(app: app, objects: objects)
            try graph.add(link)
            for alias in app.aliases { try graph.add(try aliasStep(app: app, alias: alias, binary: link.primaryOutput)) }
        }
        try graph.addTool(kernelLoaderStep())
        return try graph.finish(projectRoot: project.root, outputDirectory: output)
    }

    // MARK: What the step functions share

    package func inOutput(_ name: String) -> String { FileSystem.join(output, name) }

    package func relative(_ path: String) -> String { FileSystem.display(path, relativeTo: project.root) }

    /// The generated vmlinux.h, when the build makes one.
    package var generatedVmlinuxHeader: String? {
        if case .btf = toolchain.vmlinux { return inOutput("vmlinux.h") }
        return nil
    }

    /// The vmlinux.h the kernel parts include, as commands name it: generated, or the user's own
    /// (given, vendored or beside the sources).
    package var vmlinuxHeader: String? {
        switch toolchain.vmlinux {
        case .btf: return generatedVmlinuxHeader
        case .header(let path, _): return relative(path)
        }
    }

    /// `-ffile-prefix-map=ROOT=.`, so that the checkout's path is in no product (debug info, BTF,
    /// `__FILE__`): the same sources give the same bytes in any directory, and the shared cache can
    /// hand one checkout's outputs to another. A root with `=` in it cannot be written in this
    /// option, so it goes without.
    package var pathMappingGroups: [ArgumentGroup] {
        project.root.contains("=") ? [] : [ArgumentGroup(.pathMapping, [.meant("-ffile-prefix-map=\(project.root)=.", .checkoutPathMapping)])]
    }

    /// `-I` directories of the kernel or user-space compiles, as the Makefile's INCLUDES: the
    /// output directory, libbpf's headers and its UAPI headers (from a source tree), the vmlinux.h
    /// directory (kernel parts only: user space has no use for kernel types), then the project's
    /// include directories.
    package static func includeDirectories(bpf: Bool, output: String, project: Project, toolchain: Toolchain,
                                   relative: (String) -> String) -> [String] {
        var directories = [output]
        if let libbpfInclude = toolchain.libbpf.includeDirectory { directories.append(relative(libbpfInclude)) }
        if let uapi = toolchain.libbpf.uapiIncludeDirectory { directories.append(uapi) }
        if bpf, let vmlinux = toolchain.vmlinux.includeDirectory(root: project.root) { directories.append(vmlinux) }
        for directory in project.config.includeDirectories {
            directories.append(relative(directory.replacing("{arch}", with: toolchain.arch)))
        }
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    /// Groups of user-supplied words, one per origin, leaving out empty ones.
    package static func flagGroups(_ role: ArgumentRole, _ sources: [(origin: ArgumentOrigin, words: [String])]) -> [ArgumentGroup] {
        sources.filter { !$0.words.isEmpty }.map { ArgumentGroup(role, $0.words.map(StepArgument.flag), origin: $0.origin) }
    }

    /// A name for an object built from `source`: its base name without `suffix`.
    package static func stem(of source: String, suffix: String) -> String {
        let base = FileSystem.split(source).base
        return base.hasSuffix(suffix) ? String(base.dropLast(suffix.count)) : base
    }
}
