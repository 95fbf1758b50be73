import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// Turns a directory (and its optional swbpf.toml) into a `Project`, following the conventions of
/// libbpf-bootstrap's examples/c: every NAME.bpf.c with a NAME.c beside it is an app; a HELPER.c
/// without a kernel part is a helper, linked into the apps that include HELPER.h and into every
/// Swift app. Subdirectories are not part of the project.
public enum ProjectLoader {
    public static func load(directory: String) throws -> Project {
        let root = FileSystem.normalize(directory)
        guard let entries = FileSystem.entries(root) else {
            throw ProjectError.projectDirectoryMissing(path: directory)
        }
        var config = ProjectConfig()
        var configFile: String?
        if entries.contains(where: { $0.name == ProjectConfig.fileName }) {
            let bytes = try readConfigFile(FileSystem.join(root, ProjectConfig.fileName))
            config = try ProjectConfig.parse(bytes, file: ProjectConfig.fileName)
            configFile = ProjectConfig.fileName
        }
        return try load(directory: directory, config: config, configFile: configFile)
    }

    /// The project in `directory` with `config`, whatever swbpf.toml says: what `swbpf init` checks
    /// a config it is about to write with.
    package static func load(directory: String, config: ProjectConfig, configFile: String?) throws -> Project {
        let root = FileSystem.normalize(directory)
        guard let entries = FileSystem.entries(root) else {
            throw ProjectError.projectDirectoryMissing(path: directory)
        }
        let files = Set(entries.filter { !$0.isDirectory }.map(\.name))
        // A FIFO or a device among the sources would block every read of it (and the build with it).
        for file in files.sorted() where [".c", ".h", ".swift"].contains(where: file.hasSuffix) {
            try requireRegularFile(file, root: root)
        }
        var apps: [App] = []
        var notes: [String] = []
        /// An app of `parts` and `userSources`, with its [app.NAME] settings, once its files are checked.
        func configuredApp(_ name: String, parts: [(name: String, sources: [String])], userSources: [String],
                           settings: ProjectConfig.AppConfig) throws -> App {
            let table = "\(ProjectConfig.fileName) [app.\(name)]"
            for source in settings.sources + parts.flatMap(\.sources) { try checkSource(source, root: root, referencedBy: table) }
            var app = App(name: name, bpfSources: [], userSources: userSources + settings.sources,
                          helpers: [], cflags: settings.cflags, bpfCflags: settings.bpfCflags,
                          ldflags: settings.ldflags, libs: settings.libs, aliases: settings.aliases)
            let pattern = settings.skeletonPattern ?? config.skeletonPattern
            app.btfFor = settings.btfFor
            app.kernelParts = parts.map { KernelPart(name: $0.name, sources: $0.sources, skeleton: KernelPart.skeletonFile($0.name, pattern: pattern)) }
            app.vmlinuxFirstSources = FirstInclude.vmlinuxFirst(app.bpfSources, root: root)
            app.vmlinuxBesideSources = FirstInclude.vmlinuxBeside(app.vmlinuxFirstSources, root: root)
            return app
        }
        // Kernel sources the config gives to an app belong to it, not to an app of their own.
        let claimedKernelSources = Set(config.apps.values.flatMap { $0.bpfSources + $0.kernelParts })
        for file in files.sorted() where file.hasSuffix(".bpf.c") {
            let name = String(file.dropLast(".bpf.c".count))
            if claimedKernelSources.contains(file) || config.apps[name]?.kernelParts.isEmpty == false { continue }
            let swiftSources = SwiftSources.discover(name: name, files: files, entries: entries, root: root)
            if files.contains("\(name).c"), !swiftSources.isEmpty {
                throw ProjectError.twoUserParts(name: name, swiftSources: swiftSources.contains("\(name).swift") ? ["\(name).swift"] : ["\(name)/"])
            }
            guard files.contains("\(name).c") || !swiftSources.isEmpty else {
                notes.append("\(file) has no \(name).c (or \(name).swift) beside it, so it is not an app; skipping it")
                continue
            }
            guard !file.hasPrefix("@") else {
                notes.append("\(file) is not built: clang reads a file whose name starts with '@' as a list of options, whatever its path; rename it")
                continue
            }
            guard App.hasUsableName(name) else { throw ProjectError.appNameNotIdentifier(name: name, file: file) }
            let settings = config.apps[name] ?? .init()
            var app = try configuredApp(name, parts: [(name, [file] + settings.bpfSources)], userSources: ["\(name).c"], settings: settings)
            if !swiftSources.isEmpty {
                try SwiftSources.check(app: name, settings: settings, config: config, root: root, inFolder: !swiftSources.contains("\(name).swift"))
                app.userSources = []
                app.swiftSources = swiftSources + settings.sources.filter { !swiftSources.contains($0) }
                app.swiftFlags = settings.swiftFlags
                app.sharedHeader = files.contains("\(name).h") ? "\(name).h" : nil
            }
            apps.append(app)
        }
        // The kernel samples' naming: NAME_kern.c is the kernel part of NAME_user.c.
        for file in files.sorted() where file.hasSuffix("_kern.c") && !claimedKernelSources.contains(file) {
            let name = String(file.dropLast("_kern.c".count))
            guard files.contains("\(name)_user.c") else {
                notes.append("\(file) has no \(name)_user.c beside it, so it is not an app; skipping it")
                continue
            }
            if apps.contains(where: { $0.name == name }) || config.apps[name]?.kernelParts.isEmpty == false { continue }
            let settings = config.apps[name] ?? .init()
            apps.append(try configuredApp(name, parts: [(name + "_kern", [file] + settings.bpfSources)], userSources: ["\(name)_user.c"], settings: settings))
        }
        // Apps whose kernel parts the config lists (`bpf`), one object and skeleton each.
        for (name, settings) in config.apps.sorted(by: { $0.key < $1.key }) where !settings.kernelParts.isEmpty {
            let userSources = files.contains("\(name).c") ? ["\(name).c"] : []
            if userSources.isEmpty && settings.sources.isEmpty {
                throw ProjectError.appWithoutUserPart(name: name, configFile: ProjectConfig.fileName, line: config.appLines[name] ?? 1)
            }
            let parts = settings.kernelParts.map { (KernelPart.name(of: $0), [$0]) }
            apps.append(try configuredApp(name, parts: parts, userSources: userSources, settings: settings))
        }
        for name in config.apps.keys.sorted() where !apps.contains(where: { $0.name == name }) {
            throw ProjectError.appWithoutUserPart(name: name, configFile: ProjectConfig.fileName, line: config.appLines[name] ?? 1)
        }
        for (name, program) in config.programs.sorted(by: { $0.key < $1.key }) {
            if apps.contains(where: { $0.name == name }) {
                throw ProjectError.programIsApp(name: name, configFile: ProjectConfig.fileName, line: config.programLines[name] ?? 1)
            }
            for source in program.sources { try checkSource(source, root: root, referencedBy: "\(ProjectConfig.fileName) [program.\(name)]") }
            var app = App(name: name, bpfSources: [], userSources: program.sources, helpers: [], cflags: program.cflags,
                          ldflags: program.ldflags, libs: program.libs)
            app.linksLibbpf = program.linksLibbpf
            apps.append(app)
        }
        apps.sort { $0.name < $1.name }
        for name in config.alsoApps where !apps.contains(where: { $0.name == name }) {
            throw ConfigError.invalidValue(file: ProjectConfig.fileName, line: config.alsoLine, key: "also",
                                           message: "there is no app named '\(name)'; the apps are: \(apps.map(\.name).joined(separator: ", "))")
        }
        if apps.isEmpty {
            throw ProjectError.noApps(directory: directory,
                                    kernelOnly: files.filter { $0.hasSuffix(".bpf.c") }.map { String($0.dropLast(6)) }.sorted())
        }
        for source in config.sharedSources {
            guard FileSystem.exists(FileSystem.join(root, source)) else {
                throw ProjectError.missingSource(path: source, referencedBy: ProjectConfig.fileName)
            }
            try requireRegularFile(source, root: root)
        }

        let helperSources = assignHelpers(to: &apps, files: files, root: root, config: config)
        for index in apps.indices {
            let directories = AppRequirements.includeDirectories(of: apps[index], config: config,
                                                                 arch: config.arch.flatMap(TargetArch.named)?.name ?? TargetSelection.host.name)
            // A candidate: the preprocessor decides (`OptionalHeaders`), and the build says so.
            apps[index].unavailable = AppRequirements.unavailable(apps[index], root: root, directories: directories)
        }

        let project = Project(root: root, config: config, configFile: configFile, apps: apps, helperSources: helperSources,
                              localVmlinuxHeader: files.contains("vmlinux.h") ? "vmlinux.h" : nil, notes: notes)
        try project.checkBuildDirectories()
        return project
    }
}

extension ProjectLoader {

    /// Helpers: HELPER.c with HELPER.h, no kernel part, not an app and not an app's own source.
    /// Gives each app the helpers its sources reach and returns every helper some app uses.
    private static func assignHelpers(to apps: inout [App], files: Set<String>, root: String, config: ProjectConfig) -> [String] {
        let appNames = Set(apps.map(\.name))
        let claimed = Set(apps.flatMap { $0.userSources + $0.bpfSources } + config.sharedSources)
        let helperCandidates = files.filter { file in
            guard file.hasSuffix(".c"), !file.hasSuffix(".bpf.c"), !claimed.contains(file) else { return false }
            let base = String(file.dropLast(2))
            return !appNames.contains(base) && files.contains("\(base).h")
        }
        var includeCache: [String: [String]] = [:]
        func localIncludes(_ file: String) -> [String] {
            if let cached = includeCache[file] { return cached }
            let found = IncludeScanner.quotedIncludes(in: FileSystem.read(FileSystem.join(root, file)) ?? [])
                .filter { files.contains($0) }
            includeCache[file] = found
            return found
        }
        /// Helpers reachable from `sources` through local `#include "X.h"` lines (helpers may use helpers).
        func helpers(reachableFrom sources: [String]) -> [String] {
            var seenHeaders = Set<String>()
            var pending = sources
            var found: [String] = []
            while let file = pending.popLast() {
                for header in localIncludes(file) where seenHeaders.insert(header).inserted {
                    pending.append(header)
                    let helper = String(header.dropLast(2)) + ".c"
                    if helperCandidates.contains(helper), !found.contains(helper) {
                        found.append(helper)
                        pending.append(helper)
                    }
                }
            }
            return found.sorted()
        }
        var usedHelpers = Set<String>()
        for index in apps.indices {
            let own = apps[index].userSources + [apps[index].name + ".h"].filter(files.contains)
            // Reading sources is only needed when there is a helper to find.
            var discovered = helperCandidates.isEmpty ? [] : helpers(reachableFrom: own + config.sharedSources)
            if apps[index].isSwift {
                // Swift has no #include to name the helpers it calls: a Swift app links every
                // helper, and its module imports the headers its shared header does not.
                let unreached = helperCandidates.subtracting(discovered).sorted()
                apps[index].importedHelperHeaders = unreached.map { String($0.dropLast(2)) + ".h" }
                discovered = (discovered + unreached).sorted()
            }
            apps[index].helpers = config.sharedSources + discovered.filter { !config.sharedSources.contains($0) }
            usedHelpers.formUnion(discovered)
        }
        return config.sharedSources + usedHelpers.sorted().filter { !config.sharedSources.contains($0) }
    }

    /// A source the config names must exist, and must not read as an option to clang.
    private static func checkSource(_ source: String, root: String, referencedBy: String) throws {
        if !FileSystem.exists(FileSystem.join(root, source)) {
            throw ProjectError.missingSource(path: source, referencedBy: referencedBy)
        }
        try requireRegularFile(source, root: root)
        if FileSystem.split(source).base.hasPrefix("@") {
            throw ProjectError.responseFileName(path: source, referencedBy: referencedBy)
        }
    }

    /// Refuses a source that exists and is not a regular file (through a symbolic link).
    private static func requireRegularFile(_ path: String, root: String) throws {
        if let kind = FileSystem.irregularKind(FileSystem.join(root, path)) { throw ProjectError.notARegularFile(path: path, kind: kind) }
    }

    /// Reads swbpf.toml, which must be a regular file (a symbolic link to one is fine) of at most
    /// `ProjectConfig.maximumFileSize` bytes. It is checked with stat before it is opened, so a FIFO
    /// or a device is never opened (a FIFO would block until a writer comes); the open is
    /// non-blocking and fstat checks again, in case the file is replaced in between.
    package static func readConfigFile(_ path: String) throws -> [UInt8] {
        func failure() -> FileError { .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        var info = Glibc.stat()
        guard stat(path, &info) == 0 else { throw failure() }
        try checkConfigFile(path, info)
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        guard fstat(fd, &info) == 0 else { throw failure() }
        try checkConfigFile(path, info)
        // One byte more than allowed: a file that grew since fstat is still caught.
        var bytes = [UInt8](repeating: 0, count: ProjectConfig.maximumFileSize + 1)
        var length = 0
        while length < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + length, $0.count - length) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure()
            }
            if count == 0 { break }
            length += count
        }
        if length > ProjectConfig.maximumFileSize {
            throw ConfigError.tooLarge(path: path, size: Int64(length), limit: ProjectConfig.maximumFileSize)
        }
        bytes.removeLast(bytes.count - length)
        return bytes
    }

    private static func checkConfigFile(_ path: String, _ info: Glibc.stat) throws {
        let kind: String? = switch info.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
        if let kind { throw ConfigError.notAFile(path: path, kind: kind) }
        if info.st_size > ProjectConfig.maximumFileSize {
            throw ConfigError.tooLarge(path: path, size: Int64(info.st_size), limit: ProjectConfig.maximumFileSize)
        }
    }
}

/// Finds `#include "file"` lines. It does not evaluate the preprocessor: a helper included under
/// an #if is still linked, which costs nothing but a few unused symbols.
package enum IncludeScanner {
    package static func quotedIncludes(in bytes: [UInt8]) -> [String] {
        var result: [String] = []
        var index = 0
        let count = bytes.count
        func skipBlanks() { while index < count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }
        while index < count {
            skipBlanks()
            if index < count, bytes[index] == UInt8(ascii: "#") {
                index += 1
                skipBlanks()
                let directive = Array("include".utf8)
                if index + directive.count <= count, Array(bytes[index..<index + directive.count]) == directive {
                    index += directive.count
                    skipBlanks()
                    if index < count, bytes[index] == UInt8(ascii: "\"") {
                        let start = index + 1
                        var end = start
                        while end < count, bytes[end] != UInt8(ascii: "\""), bytes[end] != 0x0A { end += 1 }
                        if end < count, bytes[end] == UInt8(ascii: "\"") {
                            result.append(String(decoding: bytes[start..<end], as: UTF8.self))
                        }
                    }
                }
            }
            while index < count, bytes[index] != 0x0A { index += 1 }
            index += 1
        }
        return result
    }
}
