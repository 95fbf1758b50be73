import SwbpfBasics

/// A file that swbpf writes for a Swift app's compile, in `<output>/swift/NAME/`.
package enum SwiftSupportFile: CaseIterable {
    /// `module.modulemap`: declares the C module `CNAME` whose header is the umbrella header.
    case moduleMap
    /// `CNAME.h`: includes what `import CNAME` brings into Swift.
    case umbrellaHeader
    /// `output-file-map.json`: tells swiftc where to write its depfile.
    case outputFileMap
}

extension Planner {
    /// The directory of an app's module map. Each app has its own: clang also reads the module map
    /// one directory below each `-I` directory, and two maps declaring one module clash.
    package func swiftDirectory(of app: App) -> String { inOutput("swift/" + app.name) }

    /// The C module a Swift app imports: the skeleton, libbpf and the app's shared header.
    package static func clangModuleName(of app: App) -> String { "C" + app.name }

    package func swiftSupportPath(_ file: SwiftSupportFile, of app: App) -> String {
        switch file {
        case .moduleMap: return FileSystem.join(swiftDirectory(of: app), "module.modulemap")
        case .umbrellaHeader: return FileSystem.join(swiftDirectory(of: app), Self.clangModuleName(of: app) + ".h")
        case .outputFileMap: return FileSystem.join(swiftDirectory(of: app), "output-file-map.json")
        }
    }

    /// Where clang keeps the modules it builds from headers, shared by the apps (its entries are
    /// keyed by the flags and headers, and written with atomic renames under locks). The '-' keeps
    /// it apart from every app's directory: app names are C identifiers.
    package var swiftModuleCache: String { inOutput("swift/module-cache") }

    /// The object of a Swift app, in its own directory (the compile is staged there).
    package func swiftObject(of app: App) -> String { FileSystem.join(swiftDirectory(of: app), app.name + ".swift.o") }

    package func swiftDepfile(of app: App) -> String { FileSystem.join(swiftDirectory(of: app), app.name + ".d") }

    /// The libbpf headers the umbrella header reaches, which the Swift compile lists as inputs:
    /// those the libbpf step installs, or the toolchain's bpf/*.h (swiftc's depfile omits system headers).
    package func swiftLibbpfHeaders(_ swift: SwiftTools) -> [String] {
        toolchain.libbpf.sourceBuild != nil ? libbpfHeaders : swift.libbpfHeaders.map(relative)
    }

    /// Whether Swift apps are built for debugging, and who said so.
    package var swiftDebug: (on: Bool, origin: ArgumentOrigin) {
        if let knob = settings.swiftDebug { return (knob, .knob(.swiftDebug)) }
        if let key = project.config.swiftDebug { return (key, .config(key: "swift-debug")) }
        return (false, .swbpf)
    }

    package func swiftTools(for app: App) throws -> SwiftTools {
        guard let swift = toolchain.swift else { throw ToolchainError.swiftcNotFound(tried: ["SWIFTC", "swiftc on PATH"], apps: [app.name]) }
        return swift
    }

    /// A Swift app's steps after its skeleton: its support files, the compile, the link and its aliases.
    package func addSwiftSteps(app: App, helperObjects: [String], to graph: inout GraphBuilder) throws {
        let swift = try swiftTools(for: app)
        for file in SwiftSupportFile.allCases { try graph.add(swiftSupportStep(file, app: app, printf: swift.printf)) }
        let compile = swiftCompileStep(app: app, swift: swift)
        try graph.add(compile)
        let link = swiftLinkStep(app: app, objects: [compile.primaryOutput] + helperObjects, swiftc: swift.swiftc)
        try graph.add(link)
        for alias in app.aliases { try graph.add(try aliasStep(app: app, alias: alias, binary: link.primaryOutput)) }
    }

    /// `printf '%s\n' LINE... > FILE`: one support file of a Swift app (printf repeats the format
    /// for each line). Its text is on the command, so the step runs again exactly when the text
    /// changes, and a rewrite with the same bytes leaves the compile up to date (it compares contents).
    package func swiftSupportStep(_ file: SwiftSupportFile, app: App, printf: Tool) -> Step {
        Step(kind: .swiftSupport, app: app.name, tool: printf,
             groups: [ArgumentGroup(.baseOptions, [.flag("%s\\n")]),
                      ArgumentGroup(.fileContents, swiftSupportLines(file, app: app).map(StepArgument.flag))],
             standardOutput: swiftSupportPath(file, of: app))
    }

    package func swiftSupportLines(_ file: SwiftSupportFile, app: App) -> [String] {
        let module = Self.clangModuleName(of: app)
        switch file {
        case .moduleMap:
            return ["module \(module) {", "    header \"\(module).h\"", "    export *", "}"]
        case .umbrellaHeader:
            // linux/types.h first: the skeleton and a shared header use __u32 and friends.
            // getopt.h: the C twins read their options with getopt_long, and Glibc's Swift module leaves it out.
            let includes = ["<linux/types.h>", "<bpf/libbpf.h>", "<bpf/bpf.h>", "<getopt.h>"] + (app.sharedHeader.map { ["\"\($0)\""] } ?? [])
                + app.importedHelperHeaders.map { "\"\($0)\"" }
                + app.kernelParts.map { "\"\($0.skeleton)\"" }
            return ["/* Generated by swbpf: what import \(module) gives the Swift code of \(app.name). */"] + includes.map { "#include \($0)" }
        case .outputFileMap:
            // The "" entry holds a whole-module compile's outputs.
            return ["{\"\": {\"dependencies\": \(Self.jsonString(swiftDepfile(of: app)))}}"]
        }
    }

    package static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `swiftc -c -wmo -parse-as-library -swift-version 6 -O ... SOURCES -o .output/swift/NAME/NAME.swift.o`:
    /// every source of a Swift app compiled as one module (-wmo: one object, so the skeleton's
    /// embedded BPF object is in the binary once, not once per file).
    package func swiftCompileStep(app: App, swift: SwiftTools) -> Step {
        let debug = swiftDebug
        let swiftDirectory = swiftDirectory(of: app)
        let clangDirectories = Self.includeDirectories(bpf: false, output: output, project: project, toolchain: toolchain, relative: relative)
            + ["."]
        let groups = [ArgumentGroup(.baseOptions, ["-c", "-wmo", "-parse-as-library", "-swift-version", "6"].map(StepArgument.flag)),
                      ArgumentGroup(.baseOptions, (debug.on ? ["-Onone", "-g"] : ["-O"]).map(StepArgument.flag), origin: debug.origin)]
            + (project.root.contains("=") ? [] : [ArgumentGroup(.pathMapping, [.flag("-file-prefix-map"), .flag("\(project.root)=.")])])
            + [ArgumentGroup(.swiftModule, [.flag("-module-name"), .flag(app.name),
                                            .flag("-module-cache-path"), .searchDirectory(swiftModuleCache),
                                            .flag("-I"), .searchDirectory(swiftDirectory)]
                             + clangDirectories.flatMap { [StepArgument.flag("-Xcc"), .joined("-I", $0, .searchDirectory)] })]
            + Self.flagGroups(.userFlags, [(.config(key: "swift-flags"), project.config.swiftFlags),
                                           (.appConfig(app: app.name, key: "swift-flags"), app.swiftFlags),
                                           (.knob(.swiftFlags), settings.swiftFlags)])
            + [ArgumentGroup(.dependencies, [.flag("-emit-dependencies"), .flag("-output-file-map"),
                                             .input(swiftSupportPath(.outputFileMap, of: app))]),
               ArgumentGroup(.source, app.swiftSources.map(StepArgument.input)),
               ArgumentGroup(.output, [.flag("-o"), .output(swiftObject(of: app))])]
        // Staged: swiftc writes the object's file name into it (a FILE symbol), so it is written as
        // NAME.swift.o in a fresh directory, not under a temporary name: the same bytes every time.
        var step = Step(kind: .swiftCompile, app: app.name, tool: swift.swiftc, groups: groups,
                        orderOnlyInputs: skeletonHeaders(of: app) + libbpfHeadersReady, depfile: swiftDepfile(of: app),
                        unlistedInputs: [swiftSupportPath(.moduleMap, of: app), swiftSupportPath(.umbrellaHeader, of: app)]
                            + swiftLibbpfHeaders(swift),
                        stagingDirectory: swiftDirectory)
        step.depfileNamedByCommand = true
        step.byproducts = [swiftModuleCache]
        step.libbpf = libbpfInUse
        return step
    }

    /// `swiftc -static-stdlib -module-name NAME .output/swift/NAME/NAME.swift.o libbpf.a -lelf -lz -o NAME`: the
    /// binary, with Swift's runtime inside it, so it runs on machines without a Swift toolchain.
    /// swiftc writes the libraries the object asks for into MODULE.autolink beside the first object,
    /// MODULE being `main` when the output's (temporary) name is not an identifier: -module-name
    /// gives each app its own, so two links at once do not share one.
    package func swiftLinkStep(app: App, objects: [String], swiftc: Tool) -> Step {
        let debug = swiftDebug
        let config = project.config
        // Linker words written for cc go to the clang driver swiftc links with.
        let linkerFlags = [(ArgumentOrigin.knob(.ldflags), settings.ldflags), (.knob(.extraLdflags), settings.extraLdflags),
                           (.config(key: "ldflags"), config.ldflags), (.appConfig(app: app.name, key: "ldflags"), app.ldflags)]
            .filter { !$0.1.isEmpty }
            .map { ArgumentGroup(.linkerFlags, $0.1.flatMap { [StepArgument.flag("-Xclang-linker"), .flag($0)] }, origin: $0.0) }
        // --static: the whole binary static, Swift's runtime included; else only Swift's runtime.
        let selection = toolchain.target.selection
        let staticWords = selection.staticLink ? [ArgumentGroup(.baseOptions, [.flag("-static-executable")],
                                                                origin: .target(selection.staticOrigin ?? "--static"))]
            : debug.on ? [] : [ArgumentGroup(.baseOptions, [.flag("-static-stdlib")], origin: debug.origin)]
        let groups = staticWords
            + [ArgumentGroup(.swiftModule, [.flag("-module-name"), .flag(app.name)]),
               ArgumentGroup(.objects, objects.map(StepArgument.input)),
               ArgumentGroup(.libbpf, [.input(libbpfArchive)], origin: .libbpf(toolchain.libbpf.origin))]
            + linkerFlags
            + Self.flagGroups(.libraries, [(.config(key: "libs"), Self.libraryWords(config.libs)),
                                           (.appConfig(app: app.name, key: "libs"), Self.libraryWords(app.libs))])
            + [ArgumentGroup(.systemLibraries, toolchain.target.libraries.map(StepArgument.flag),
                             origin: selection.staticLink ? .target(toolchain.target.librariesOrigin) : .swbpf),
               ArgumentGroup(.output, [.flag("-o"), .output(FileSystem.join(binaryDirectory, app.name))])]
        var step = Step(kind: .swiftLink, app: app.name, tool: swiftc, groups: groups)
        step.postcondition = toolchain.target.expectedBinary.map(StepPostcondition.elf)
        step.byproducts = objects.first.map { [FileSystem.join(FileSystem.split($0).directory, app.name + ".autolink")] } ?? []
        return step
    }
}
