import SwbpfBasics

/// Which files are a Swift app's user-space part: `NAME.swift` beside `NAME.bpf.c`, or else the
/// .swift files of a `NAME/` folder there (its direct children, in name order).
package enum SwiftSources {
    package static func discover(name: String, files: Set<String>, entries: [(name: String, isDirectory: Bool)], root: String) -> [String] {
        if files.contains("\(name).swift") { return ["\(name).swift"] }
        guard entries.contains(where: { $0.name == name && $0.isDirectory }) else { return [] }
        let folder = FileSystem.join(root, name)
        return (FileSystem.entries(folder) ?? []).filter { !$0.isDirectory && $0.name.hasSuffix(".swift") }
            .map { "\(name)/\($0.name)" }
    }

    /// A Swift app's extra sources must be Swift (swiftc would take a .c for a Swift file), and a
    /// NAME/ folder cannot stand where the binary NAME is written.
    package static func check(app: String, settings: ProjectConfig.AppConfig, config: ProjectConfig, root: String, inFolder: Bool) throws {
        if let other = settings.sources.first(where: { !$0.hasSuffix(".swift") }) {
            throw ProjectError.notASwiftSource(app: app, path: other, configFile: ProjectConfig.fileName, line: config.appLines[app] ?? 1)
        }
        if inFolder, FileSystem.normalize(FileSystem.absolute(config.binaryDirectory ?? ".", base: root)) == root {
            throw ProjectError.swiftFolderIsBinaryPath(name: app)
        }
    }
}
