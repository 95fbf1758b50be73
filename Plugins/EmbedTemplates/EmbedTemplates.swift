import Foundation
import PackagePlugin

/// Compiles templates/ into the target it is applied to, as `EmbeddedTemplates.files`, so that an
/// installed swbpf carries its templates and needs no files beside it.
///
/// SwiftPM runs this plugin only when it plans a build (Package.swift changed, or a file was added to
/// or removed from a target's directory), not at every build. So the inputs are every file under
/// templates/, for edits, and every directory, whose modification time changes when an entry is
/// added or removed; and the tool lists templates/ again when it runs rather than trusting the list
/// made here, so that a template added since the plan is embedded too (the tool says what the plan
/// does not know yet). A planned file that is deleted before the next plan stops the build with
/// "missing inputs": `touch Package.swift` makes SwiftPM plan again.
@main
struct EmbedTemplates: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let templates = context.package.directoryURL.appending(path: "templates")
        var files: [(url: URL, path: String)] = []
        var directories = [templates]
        try walk(templates, under: "", files: &files, directories: &directories)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedTemplates.swift")
        return [.buildCommand(
            displayName: "Embedding the templates",
            executable: try context.tool(named: "TemplateEmbedder").url,
            arguments: [templates.path(percentEncoded: false), output.path(percentEncoded: false)] + files.map(\.path),
            inputFiles: directories + files.map(\.url),
            outputFiles: [output])]
    }

    /// Collects the regular files (with their paths relative to templates/) and directories in
    /// `directory`, leaving out hidden ones (editor swap files, .DS_Store) as the tool does.
    func walk(_ directory: URL, under relative: String, files: inout [(url: URL, path: String)], directories: inout [URL]) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path(percentEncoded: false)).sorted() where !name.hasPrefix(".") {
            let url = directory.appending(path: name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path(percentEncoded: false), isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                directories.append(url)
                try walk(url, under: relative + name + "/", files: &files, directories: &directories)
            } else {
                files.append((url, relative + name))
            }
        }
    }
}
