import Foundation
import PackagePlugin

/// Writes the git commit swbpf is built from into the target it is applied to, as
/// `BuildCommit.hash`, for `swbpf --version`. A build from a tarball, with no .git, gets nil.
///
/// The inputs are the files whose change means another commit: HEAD, the branch's ref file and
/// packed-refs (in a worktree, .git is a file naming its own git directory, and the refs are in the
/// common one). The tool resolves HEAD again when it runs, so a branch switched since the plan is
/// still read right.
@main
struct EmbedCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift")
        var inputs: [URL] = []
        var arguments = [output.path(percentEncoded: false)]
        if let gitDirectory = Self.gitDirectory(package) {
            let common = Self.commonDirectory(gitDirectory)
            inputs.append(gitDirectory.appending(path: "HEAD"))
            if let head = try? String(contentsOf: gitDirectory.appending(path: "HEAD"), encoding: .utf8), head.hasPrefix("ref: ") {
                inputs.append(common.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            inputs.append(common.appending(path: "packed-refs"))
            arguments += [gitDirectory.path(percentEncoded: false), common.path(percentEncoded: false)]
        }
        return [.buildCommand(
            displayName: "Recording the git commit",
            executable: try context.tool(named: "CommitStamper").url,
            arguments: arguments,
            inputFiles: inputs.filter { FileManager.default.fileExists(atPath: $0.path(percentEncoded: false)) },
            outputFiles: [output])]
    }

    static func gitDirectory(_ package: URL) -> URL? {
        let dotGit = package.appending(path: ".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path(percentEncoded: false), isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir: ") else { return nil }
        let path = text.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appending(path: path)
    }

    static func commonDirectory(_ gitDirectory: URL) -> URL {
        guard let text = try? String(contentsOf: gitDirectory.appending(path: "commondir"), encoding: .utf8) else { return gitDirectory }
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDirectory.appending(path: path).standardized
    }
}
