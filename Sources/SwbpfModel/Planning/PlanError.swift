import SwbpfBasics

/// A graph that cannot be built as planned: two writers of one file, or a product over a source.
public enum PlanError: DiagnosticError, Equatable {
    case duplicateOutput(path: String, first: String, second: String)
    /// A file that a step reads as a source (or swbpf's own state) would be written by another.
    case productIsSource(path: String, reader: String, writer: String)
    /// A command that runs the products on this machine (verify, run), asked of another target's.
    case notThisMachine(command: String, target: String, origin: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .duplicateOutput(let path, let first, let second):
            return Diagnostic(.error, "two steps would write '\(path)': \(first) and \(second)",
                              help: "rename one of the sources so their object files differ")
        case .notThisMachine(let command, let target, let origin):
            return Diagnostic(.error, "swbpf \(command) runs the programs on this machine, but the build is for \(target) (from \(origin))",
                              help: "run 'swbpf \(command)' without ARCH (or --arch, or swbpf.toml arch) to build for this machine; copy the \(target) binary to an \(target) machine to run it there")
        case .productIsSource(let path, let reader, let writer):
            return Diagnostic(.error, "\(writer) would overwrite '\(path)', which \(reader) reads",
                              help: "rename the app or the file, or move the products elsewhere with 'output = \"DIR\"' or 'bin = \"DIR\"' in swbpf.toml")
        }
    }
}
