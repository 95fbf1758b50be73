import SwbpfBasics

extension Planner {
    /// `ln -sf APP ALIAS`: another name for an app's binary, beside it, as libbpf-tools' Makefile
    /// makes its aliases. The link is written under a temporary name and renamed into place like
    /// any product; the binary it names is an input, so the link is remade when the binary is.
    package func aliasStep(app: App, alias: String, binary: String) throws -> Step {
        guard let ln = toolchain.ln else {
            throw ToolchainError.toolNotFound(tool: "ln", tried: ["ln on PATH"], package: ToolRole.ln.package, knob: ToolRole.ln.knob)
        }
        let link = FileSystem.join(FileSystem.split(binary).directory, alias)
        return Step(kind: .alias, app: app.name, tool: ln,
                    groups: [ArgumentGroup(.baseOptions, [.flag("-sf")]),
                             ArgumentGroup(.linkTarget, [.flag(FileSystem.split(binary).base)]),
                             ArgumentGroup(.output, [.output(link)])],
                    unlistedInputs: [binary])
    }
}
