import SwbpfBasics
import SwbpfModel

/// A starting point for one kind of eBPF program.
public struct Template: Equatable {
    public var id: String
    public var description: String
    /// The kernel feature or attach point it needs.
    public var feature: String
    /// Files with `@name@` in their names and contents (not template.toml).
    public var files: [(path: String, contents: String)]

    public static func == (a: Template, b: Template) -> Bool { a.id == b.id }

    /// Files that belong to the project as a whole rather than to one app.
    package static let projectFiles: Set<String> = ["README.md"]

    /// The user-space source of each language, beside the shared @name@.h and @name@.bpf.c.
    package static func userSpaceFile(_ language: SourceLanguage) -> String {
        switch language {
        case .c: return "@name@.c"
        case .swift: return "@name@.swift"
        }
    }

    /// Whether the template has a user space in `language`.
    public func has(_ language: SourceLanguage) -> Bool { files.contains { $0.path == Self.userSpaceFile(language) } }

    /// The template's files for a user space in `language`: the other language's source left out,
    /// and the README naming the user part as the project has it (one README serves both).
    package func files(for language: SourceLanguage) -> [(path: String, contents: String)] {
        let others = SourceLanguage.allCases.filter { $0 != language }.map(Self.userSpaceFile)
        return files.filter { !others.contains($0.path) }.map { file in
            guard Self.projectFiles.contains(file.path), language != .c else { return file }
            return (file.path, file.contents.replacing("`\(Self.userSpaceFile(.c))`", with: "`\(Self.userSpaceFile(language))`"))
        }
    }

    /// templates/helpers/ holds no template: its C helpers (custom_btf.c and .h) are written beside
    /// the apps of every project, once, and the templates' user parts call them.
    static let helpersDirectory = "helpers"

    /// The shared helpers' files, written into a project when it has none of that name.
    package static var helpers: [(path: String, contents: String)] { EmbeddedTemplates.files[helpersDirectory] ?? [] }

    /// The templates built into this swbpf, in a fixed teaching order.
    public static var all: [Template] {
        let order = ["minimal", "tracepoint", "kprobe", "fentry", "ksyscall", "uprobe", "ringbuf", "xdp", "tc", "iter", "usdt", "profile"]
        let ids = EmbeddedTemplates.files.keys.filter { $0 != helpersDirectory }.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
        return ids.map { id in
            let entries = EmbeddedTemplates.files[id] ?? []
            let meta = entries.first { $0.path == "template.toml" }.flatMap { try? TOMLTable(parsing: $0.contents) }
            return Template(id: id, description: meta?["description"]?.string ?? "", feature: meta?["feature"]?.string ?? "",
                            files: entries.filter { $0.path != "template.toml" })
        }
    }

    public static func named(_ id: String) throws -> Template {
        guard let template = all.first(where: { $0.id == id }) else {
            throw ScaffoldError.unknownTemplate(name: id, available: all.map(\.id))
        }
        return template
    }

    package init(id: String, description: String, feature: String, files: [(path: String, contents: String)]) {
        self.id = id
        self.description = description
        self.feature = feature
        self.files = files
    }
}

/// The language of an app's user-space part.
public enum SourceLanguage: String, CaseIterable, Sendable {
    case c
    case swift
}

/// `swbpf new` and `swbpf add`: write a template's files for an app name, never overwriting a
/// user's file unless told to.
public enum Scaffolder {
    /// Swift keywords and the modules a Swift app imports: `-module-name` cannot be one of them.
    package static let swiftReservedNames: Set<String> = [
        "associatedtype", "class", "deinit", "extension", "fileprivate", "func", "import", "init", "inout", "internal", "let",
        "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static", "subscript", "typealias",
        "var", "defer", "guard", "in", "repeat", "as", "catch", "is", "nil", "super", "self", "Self", "throw", "throws", "try",
        "Any", "Swift", "Glibc", "Foundation", "Dispatch", "Synchronization", "where", "await", "async",
    ]

    /// `validate(name:)`, and for a Swift app also a name swiftc takes as a module name.
    public static func validate(name: String, language: SourceLanguage) throws {
        try validate(name: name)
        if language == .swift, swiftReservedNames.contains(name) {
            throw ScaffoldError.invalidAppName(name: name, reason: "'\(name)' is a Swift keyword or a module the app imports, and a Swift app's name is its module name")
        }
    }

    /// The template, when it has a user space in `language`.
    public static func checkLanguage(_ template: Template, _ language: SourceLanguage) throws {
        guard !template.has(language) else { return }
        throw ScaffoldError.noVersion(template: template.id, language: language.rawValue,
                                      available: Template.all.filter { $0.has(language) }.map(\.id))
    }

    package static let reservedWords: Set<String> = [
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float",
        "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof",
        "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
        "asm", "typeof", "_Bool", "_Complex", "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn",
        "_Static_assert", "_Thread_local", "main",
    ]

    /// Checks that `name` can be an app name: a C identifier (it becomes `struct NAME_bpf`), not a
    /// keyword, not reserved, not a file swbpf generates.
    public static func validate(name: String) throws {
        if name.isEmpty { throw ScaffoldError.invalidAppName(name: name, reason: "it is empty") }
        if name.contains("/") || name.contains("..") {
            throw ScaffoldError.invalidAppName(name: name, reason: "it contains a path separator or '..'")
        }
        let bytes = Array(name.utf8)
        let isLetter = { (b: UInt8) in (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        guard isLetter(bytes[0]), bytes.allSatisfy({ isLetter($0) || ($0 >= 48 && $0 <= 57) }) else {
            throw ScaffoldError.invalidAppName(name: name, reason: "it is not a C identifier (letters, digits and '_', not starting with a digit)")
        }
        if reservedWords.contains(name) { throw ScaffoldError.invalidAppName(name: name, reason: "'\(name)' is a C keyword or reserved name") }
        if name.hasPrefix("__") || (name.hasPrefix("_") && bytes.count > 1 && bytes[1] >= 65 && bytes[1] <= 90) {
            throw ScaffoldError.invalidAppName(name: name, reason: "identifiers starting with '__' or '_' and a capital letter are reserved for the implementation")
        }
        if name == "vmlinux" { throw ScaffoldError.invalidAppName(name: name, reason: "vmlinux.h is the generated kernel header") }
        if let helper = Template.helpers.first(where: { $0.path == name + ".c" }) {
            throw ScaffoldError.invalidAppName(name: name, reason: "\(helper.path) is the helper swbpf writes beside every project's apps")
        }
        // Templates declare `struct NAME_event`; these would collide with kernel types in vmlinux.h.
        if ["perf", "trace", "proc"].contains(name) {
            throw ScaffoldError.invalidAppName(name: name, reason: "struct \(name)_event, which the templates declare, is already a kernel type in vmlinux.h")
        }
    }

    package static func substitute(_ text: String, name: String) -> String {
        text.replacing("@NAME@", with: name.uppercased()).replacing("@name@", with: name)
    }

    /// The files `swbpf new` writes: the template's, the shared helpers, swbpf.toml and .gitignore.
    public static func projectFiles(template: Template, name: String, language: SourceLanguage = .c) -> [(path: String, contents: String)] {
        var files = template.files(for: language).map { (substitute($0.path, name: name), substitute($0.contents, name: name)) }
        files += Template.helpers
        files.append(("swbpf.toml", configFile(name: name, template: template)))
        files.append((".gitignore", "# Build products of swbpf\n/.output/\n/\(name)\n"))
        return files
    }

    /// The files `swbpf add` writes: the app's sources only.
    public static func appFiles(template: Template, name: String, language: SourceLanguage = .c) -> [(path: String, contents: String)] {
        template.files(for: language).filter { !Template.projectFiles.contains($0.path) }
            .map { (substitute($0.path, name: name), substitute($0.contents, name: name)) }
    }

    package static func configFile(name: String, template: Template) -> String {
        """
        # swbpf.toml: optional settings for this project. Every key is optional; the values shown
        # in comments are the defaults. swbpf's docs/configuration.md has every key.
        # Started from the '\(template.id)' template: \(template.description)

        # output = ".output"        # where vmlinux.h, objects and skeletons go
        # bin = "."                 # where binaries go
        # cflags = []               # extra flags for user-space compiles
        # bpf-cflags = []           # extra flags for BPF compiles
        # sources = []              # user-space sources linked into every app

        # swift-debug = false       # Swift apps: -Onone -g and the dynamic stdlib instead of -O -static-stdlib
        # swift-flags = []          # extra flags for Swift compiles

        # [app.\(name)]
        # sources = []              # more user-space sources for this app (.swift files for a Swift app)
        # libs = []                 # libraries to link, e.g. ["pthread"]
        # swift-flags = []          # extra flags for this Swift app's compile

        """
    }

    /// Creates `directory` as a new project from `template`.
    public static func newProject(directory: String, template: Template, name: String, language: SourceLanguage = .c) throws -> [String] {
        try validate(name: name, language: language)
        try checkLanguage(template, language)
        if FileSystem.exists(directory) {
            guard FileSystem.isDirectory(directory), (FileSystem.list(directory) ?? []).isEmpty else {
                throw ScaffoldError.directoryNotEmpty(path: directory)
            }
        }
        try FileSystem.createDirectory(directory)
        let files = projectFiles(template: template, name: name, language: language)
        for (path, contents) in files {
            try FileSystem.writeAtomically(FileSystem.join(directory, path), Array(contents.utf8))
        }
        return files.map(\.path)
    }

    /// What `swbpf add` wrote, and the shared helpers it left as they were though they differ
    /// from this swbpf's.
    public struct AddedApp {
        public var written: [String]
        public var keptHelpers: [String]
    }

    /// Adds an app to an existing project; refuses to overwrite the app's files unless `force`.
    /// A shared helper is written only where the project has no file of its name, even with
    /// `force`: the other apps use it, and it may be the user's own.
    public static func addApp(directory: String, template: Template, name: String, force: Bool, language: SourceLanguage = .c) throws -> AddedApp {
        try validate(name: name, language: language)
        try checkLanguage(template, language)
        guard FileSystem.isDirectory(directory) else { throw ProjectError.projectDirectoryMissing(path: directory) }
        let files = appFiles(template: template, name: name, language: language)
        let existing = files.map(\.path).filter { FileSystem.exists(FileSystem.join(directory, $0)) }
        if !existing.isEmpty && !force { throw ScaffoldError.refusedToOverwrite(files: existing) }
        let presentHelpers = Template.helpers.filter { FileSystem.exists(FileSystem.join(directory, $0.path)) }
        let newHelpers = Template.helpers.filter { helper in !presentHelpers.contains { $0.path == helper.path } }
        for (path, contents) in files + newHelpers {
            try FileSystem.writeAtomically(FileSystem.join(directory, path), Array(contents.utf8))
        }
        // Keep the new binary out of git, as `new` does for the first app.
        let ignore = FileSystem.join(directory, ".gitignore")
        if let text = FileSystem.readText(ignore), !text.split(separator: "\n").contains(Substring("/\(name)")) {
            try FileSystem.writeAtomically(ignore, Array((text + (text.hasSuffix("\n") || text.isEmpty ? "" : "\n") + "/\(name)\n").utf8))
        }
        let differing = presentHelpers.filter { FileSystem.read(FileSystem.join(directory, $0.path)) != Array($0.contents.utf8) }
        return AddedApp(written: (files + newHelpers).map(\.path), keptHelpers: differing.map(\.path))
    }
}
