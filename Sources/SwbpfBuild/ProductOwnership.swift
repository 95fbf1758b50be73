import SwbpfBasics
import SwbpfModel

/// Which files a build may replace or remove: swbpf's own products, never a user's file.
///
/// A product may replace an existing file only when the build state records that file as one of
/// swbpf's outputs, when it lies in swbpf's output directory inside the project, or, for a binary,
/// when the file is an ELF executable (a binary an earlier build made, by swbpf before its state
/// was lost, or by the Makefile the project used before). Anything else stops the build before
/// any step runs.
package struct ProductOwnership {
    package let state: BuildState
    package let files: BuildFileSystem
    /// The output directory as steps name it; nil when it lies outside the project (then it may
    /// hold the user's files, and only recorded products there are swbpf's).
    package let ownedDirectory: String?
    /// Every output the state records, with the stat data it had when it was made.
    package let recorded: [String: FileStat]

    package init(state: BuildState, files: BuildFileSystem, outputDirectory: String) {
        self.state = state
        self.files = files
        ownedDirectory = outputDirectory.hasPrefix("/") || outputDirectory.hasPrefix("..") ? nil : outputDirectory
        var recorded: [String: FileStat] = [:]
        for record in state.steps.values {
            for output in record.outputs { recorded[output.path] = output.stat }
        }
        self.recorded = recorded
    }

    package func isOwned(_ path: String) -> Bool {
        ownedDirectory.map { path.hasPrefix($0 == "." ? "" : $0 + "/") && !path.hasPrefix("/") } ?? false
    }

    /// Throws for the first product of `steps` that would replace a file swbpf did not make.
    package func checkMayWrite(_ steps: [Step]) throws {
        for step in steps {
            // Recorded products first: a no-op build stats nothing here.
            for product in step.products where recorded[product] == nil && !isOwned(product) && files.stat(product) != nil {
                // A binary (or an alias, a link to one) that the Makefile or an earlier build made.
                if step.kind.linksBinary || step.kind == .alias, let bytes = files.read(product), bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
                    continue
                }
                throw OutputError.wouldOverwriteUserFile(path: product, key: step.kind.linksBinary || step.kind == .alias ? "bin" : "output")
            }
        }
    }

    /// Outputs an earlier build made in the output directory that are not in `current`, still as
    /// swbpf left them (see `PreStepAction.removeStaleOutputs`).
    package func staleProducts(current: Set<String>) -> [String] {
        recorded.filter { path, stat in
            !current.contains(path) && isOwned(path) && files.stat(path).map { $0.sameVersion(as: stat) } == true
        }.keys.sorted()
    }

    /// Recorded products of the given step keys that are still as swbpf made them: what `clean`
    /// may remove.
    package func removable(keys: [String]) -> [String] {
        keys.flatMap { state.steps[$0]?.outputs ?? [] }.filter { output in
            files.stat(output.path).map { $0.sameVersion(as: output.stat) } == true
        }.map(\.path)
    }
}
