import FoundationEssentials

/// The Makefile knobs that shape commands (everything else comes from the project and toolchain).
public struct BuildSettings: Equatable, Sendable {
    /// `CFLAGS`: replaces the default `-g -Wall`, as `make CFLAGS=...` does.
    public var cflags: [String] = ["-g", "-Wall"]
    public var cflagsFromEnvironment = false
    public var ldflags: [String] = []
    public var extraLdflags: [String] = []

    public init() {}

    public init(environment: [String: String]) {
        if let value = environment["CFLAGS"] {
            cflags = Shell.splitWords(value)
            cflagsFromEnvironment = true
        }
        if let value = environment["LDFLAGS"] { ldflags = Shell.splitWords(value) }
        if let value = environment["EXTRA_LDFLAGS"] { extraLdflags = Shell.splitWords(value) }
    }
}

/// Turns (project, toolchain, settings) into the build graph. Pure: it reads no files and runs
/// nothing, so the same inputs always give the same steps.
public struct Planner {
    public let project: Project
    public let toolchain: Toolchain
    public let settings: BuildSettings

    public init(project: Project, toolchain: Toolchain, settings: BuildSettings) {
        self.project = project
        self.toolchain = toolchain
        self.settings = settings
        output = FileSystem.display(project.outputDirectory, relativeTo: project.root)
    }

    /// The output directory as commands name it.
    let output: String

    func inOutput(_ name: String) -> String { FileSystem.join(output, name) }

    func relative(_ path: String) -> String { FileSystem.display(path, relativeTo: project.root) }

    /// `-I` directories shared by the kernel and user-space compiles, as the Makefile's INCLUDES.
    var includeGroup: ArgumentGroup {
        ArgumentGroup(.includePaths, includeDirectories.map { .joined("-I", $0) })
    }

    var includeDirectories: [String] {
        var directories = [output]
        if let libbpfInclude = toolchain.libbpf.includeDirectory { directories.append(relative(libbpfInclude)) }
        if case .header(let path, _) = toolchain.vmlinux {
            directories.append(relative(FileSystem.split(path).directory.isEmpty ? "." : FileSystem.split(path).directory))
        }
        for directory in project.config.includeDirectories {
            directories.append(relative(directory.replacing("{arch}", with: toolchain.arch)))
        }
        var seen = Set<String>()
        return directories.filter { seen.insert($0).inserted }
    }

    /// Groups of user-supplied words, one per origin, leaving out empty ones.
    static func flagGroups(_ role: ArgumentRole, _ sources: [(origin: String, words: [String])]) -> [ArgumentGroup] {
        sources.filter { !$0.words.isEmpty }.map { ArgumentGroup(role, $0.words.map(StepArgument.flag), origin: $0.origin) }
    }

    static func libraryWords(_ libs: [String]) -> [String] {
        libs.map { $0.hasPrefix("-") || $0.contains("/") ? $0 : "-l" + $0 }
    }

    /// A name for an object built from `source` for `app`: NAME.o for the app's own source,
    /// NAME.BASE.o for its extra sources, BASE.o for shared helpers.
    static func stem(of source: String, suffix: String) -> String {
        let base = FileSystem.split(source).base
        return base.hasSuffix(suffix) ? String(base.dropLast(suffix.count)) : base
    }

    public func plan() throws -> BuildPlan {
        var steps: [Step] = []
        var producers: [String: String] = [:]
        func add(_ step: Step) throws -> Int {
            var step = step
            step.id = steps.count
            for path in step.products {
                let describe = { (s: Step) in "\(s.kind.label) \(s.primaryOutput)" }
                if let first = producers[path] {
                    throw SwbpfError.duplicateOutput(path: path, first: first, second: describe(step))
                }
                producers[path] = describe(step)
            }
            steps.append(step)
            return step.id
        }
        let includes = includeGroup
        let config = project.config
        let cflagsOrigin = settings.cflagsFromEnvironment ? "CFLAGS" : "the default CFLAGS"

        var vmlinuxStep: [Int] = []
        if case .btf(let path, _) = toolchain.vmlinux {
            vmlinuxStep = [try add(Step(
                id: 0, kind: .vmlinux, app: nil, tool: toolchain.bpftool,
                groups: [ArgumentGroup(.subcommand, [.flag("btf"), .flag("dump"), .flag("file")]),
                         ArgumentGroup(.objects, [.input(relative(path))]),
                         ArgumentGroup(.subcommand, [.flag("format"), .flag("c")])],
                standardOutput: inOutput("vmlinux.h"), inputs: [relative(path)], outputs: [], depfile: nil, dependencies: []))]
        }

        func userCompile(app: App?, source: String, object: String, after: [Int]) throws -> Int {
            try add(Step(
                id: 0, kind: .compile, app: app?.name, tool: toolchain.cc,
                groups: [ArgumentGroup(.baseOptions, settings.cflags.map(StepArgument.flag), origin: cflagsOrigin), includes]
                    + Self.flagGroups(.userFlags, [("swbpf.toml cflags", config.cflags),
                                                   ("swbpf.toml [app.\(app?.name ?? "")] cflags", app?.cflags ?? [])])
                    + [ArgumentGroup(.source, [.flag("-c"), .input(source)]), ArgumentGroup(.output, [.flag("-o"), .output(object)])],
                standardOutput: nil, inputs: [source], outputs: [object], depfile: String(object.dropLast(2)) + ".d",
                dependencies: after))
        }

        var helperObjects: [String: (id: Int, object: String)] = [:]
        for helper in project.helperSources {
            let object = inOutput(Self.stem(of: helper, suffix: ".c") + ".o")
            helperObjects[helper] = (try userCompile(app: nil, source: helper, object: object, after: []), object)
        }

        var appSteps: [String: [Int]] = [:]
        for app in project.apps {
            var bpfObjects: [(id: Int, object: String)] = []
            for (index, source) in app.bpfSources.enumerated() {
                let stem = index == 0 ? app.name : "\(app.name).\(Self.stem(of: source, suffix: ".bpf.c"))"
                let object = inOutput(stem + ".tmp.bpf.o")
                let groups = [ArgumentGroup(.baseOptions, [.flag("-g"), .flag("-O2"), .flag("-target"), .flag("bpf"),
                                                           .flag("-D__TARGET_ARCH_\(toolchain.arch)")])]
                    + Self.flagGroups(.userFlags, [("swbpf.toml bpf-cflags", config.bpfCflags),
                                                   ("swbpf.toml [app.\(app.name)] bpf-cflags", app.bpfCflags)])
                    + [includes,
                       ArgumentGroup(.systemIncludes, toolchain.clangSystemIncludes.flatMap { [StepArgument.flag("-idirafter"), .input($0)] }),
                       ArgumentGroup(.source, [.flag("-c"), .input(source)]), ArgumentGroup(.output, [.flag("-o"), .output(object)])]
                let id = try add(Step(id: 0, kind: .bpfCompile, app: app.name, tool: toolchain.clang, groups: groups,
                                      standardOutput: nil, inputs: [source], outputs: [object],
                                      depfile: inOutput(stem + ".tmp.bpf.d"), dependencies: vmlinuxStep))
                bpfObjects.append((id, object))
            }
            let linked = inOutput(app.name + ".bpf.o")
            let linkID = try add(Step(
                id: 0, kind: .bpfLink, app: app.name, tool: toolchain.bpftool,
                groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("object")]), ArgumentGroup(.output, [.output(linked)]),
                         ArgumentGroup(.objects, bpfObjects.map { .input($0.object) })],
                standardOutput: nil, inputs: bpfObjects.map(\.object), outputs: [linked], depfile: nil,
                dependencies: bpfObjects.map(\.id)))
            let skeleton = inOutput(app.name + ".skel.h")
            let skeletonID = try add(Step(
                id: 0, kind: .skeleton, app: app.name, tool: toolchain.bpftool,
                groups: [ArgumentGroup(.subcommand, [.flag("gen"), .flag("skeleton")]), ArgumentGroup(.objects, [.input(linked)])],
                standardOutput: skeleton, inputs: [linked], outputs: [], depfile: nil, dependencies: [linkID]))

            var objects: [(id: Int, object: String)] = []
            for (index, source) in app.userSources.enumerated() {
                let stem = index == 0 ? app.name : "\(app.name).\(Self.stem(of: source, suffix: ".c"))"
                let object = inOutput(stem + ".o")
                objects.append((try userCompile(app: app, source: source, object: object, after: [skeletonID]), object))
            }
            objects += app.helpers.compactMap { helperObjects[$0] }
            let binary = FileSystem.join(relative(project.binaryDirectory), app.name)
            let libbpfArchive = relative(toolchain.libbpf.archive)
            let linkGroups = [ArgumentGroup(.baseOptions, settings.cflags.map(StepArgument.flag), origin: cflagsOrigin),
                              ArgumentGroup(.objects, objects.map { .input($0.object) }),
                              ArgumentGroup(.libbpf, [.input(libbpfArchive)], origin: toolchain.libbpf.origin)]
                + Self.flagGroups(.linkerFlags, [("LDFLAGS", settings.ldflags), ("EXTRA_LDFLAGS", settings.extraLdflags),
                                                 ("swbpf.toml ldflags", config.ldflags),
                                                 ("swbpf.toml [app.\(app.name)] ldflags", app.ldflags)])
                + Self.flagGroups(.libraries, [("swbpf.toml libs", Self.libraryWords(config.libs)),
                                               ("swbpf.toml [app.\(app.name)] libs", Self.libraryWords(app.libs))])
                + [ArgumentGroup(.systemLibraries, [.flag("-lelf"), .flag("-lz")]), ArgumentGroup(.output, [.flag("-o"), .output(binary)])]
            let binaryID = try add(Step(
                id: 0, kind: .link, app: app.name, tool: toolchain.cc, groups: linkGroups, standardOutput: nil,
                inputs: objects.map(\.object) + [libbpfArchive], outputs: [binary], depfile: nil,
                dependencies: objects.map(\.id)))

            var owned = Set([binaryID, skeletonID, linkID] + bpfObjects.map(\.id) + objects.map(\.id) + vmlinuxStep)
            owned.formUnion(steps.filter { $0.app == app.name }.map(\.id))
            appSteps[app.name] = owned.sorted()
        }
        return BuildPlan(projectRoot: project.root, outputDirectory: output, steps: steps, appSteps: appSteps)
    }
}
