import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfKernel
import SwbpfModel

/// Why a kernel of `btf-for` could not be given a small BTF.
package enum BTFKernelError: DiagnosticError, Equatable {
    /// The kernel could not be read or fetched (`cause` says why), for these apps.
    case unresolved(name: String, apps: [String], cause: Diagnostic)
    /// Neither the kernel nor its file's name says its release, which names the file.
    case noRelease(name: String, apps: [String])
    /// `swbpf btfgen` with no kernel to make a BTF for.
    case noKernels(apps: [String])

    package var diagnostic: Diagnostic {
        switch self {
        case .unresolved(let name, let apps, let cause):
            var diagnostic = cause
            diagnostic.notes.append("the kernel '\(name)' is named by \(BTFKernels.where(apps))")
            return diagnostic
        case .noRelease(let name, let apps):
            return Diagnostic(.error, "cannot tell which kernel release '\(name)' (named by \(BTFKernels.where(apps))) is: it carries no version string, and its file name is not one",
                              notes: ["the small BTF is installed as RELEASE.btf, and the app picks it by what uname -r says on the kernel"],
                              help: "name the BTF file after the release, as BTFHub does (5.4.0-1009-aws.btf), or give the kernel's .deb or vmlinuz")
        case .noKernels(let apps):
            return Diagnostic(.error, "no kernel to make a small BTF for: \(apps.joined(separator: ", ")) \(apps.count == 1 ? "has" : "have") no btf-for in \(ProjectConfig.fileName)",
                              help: "add btf-for = [\"6.1\", \"5.4.0-1009-aws.btf\"] to [app.\(apps.first ?? "NAME")] in \(ProjectConfig.fileName), or name kernels for this run: swbpf btfgen --kernel 6.1")
        }
    }
}

/// The kernels of the apps' `btf-for`, resolved to their whole BTF and release as `verify --kernel`
/// resolves them (`KernelImages`: apt for a Debian version; the BTF extracted once into the shared
/// cache). The answers are remembered in the project's state directory, so a build whose answers
/// still hold runs no process for them; a file named there is asked again when its size, time or
/// inode changes, a Debian version after `swbpf clean` (which forgets the answers).
package enum BTFKernels {
    private struct Answer: Codable {
        var kernel: KernelBTF
        /// `SIZE MTIME INODE` of a named file; nil for a Debian version.
        var fileStamp: String?
    }

    package static let fileName = "kernels.json"

    /// Every kernel of every app's `btf-for`, once, in order.
    package static func names(_ project: Project) -> [String] {
        var seen = Set<String>()
        return project.apps.flatMap(\.btfFor).filter { seen.insert($0).inserted }
    }

    /// The answers an earlier build saved, when they cover every name and still hold; nil when a
    /// process must run. No name: no answer is needed.
    package static func remembered(_ project: Project) -> [String: KernelBTF]? {
        let names = names(project)
        guard !names.isEmpty else { return [:] }
        guard let bytes = FileSystem.read(path(of: project)),
              let answers = try? JSONDecoder().decode([String: Answer].self, from: Data(bytes)) else { return nil }
        var kernels: [String: KernelBTF] = [:]
        for name in names {
            guard let answer = answers[name], FileSystem.exists(answer.kernel.btf),
                  answer.fileStamp == fileStamp(name, root: project.root) else { return nil }
            kernels[name] = answer.kernel
        }
        return kernels
    }

    /// Resolves every name (fetching and extracting what the shared cache lacks), and saves the
    /// answers when `save` (a dry run writes nothing in the project).
    package static func resolve(_ project: Project, environment: [String: String], save: Bool,
                                note: (String) -> Void) async throws -> [String: KernelBTF] {
        let names = names(project)
        guard !names.isEmpty else { return [:] }
        guard let cache = CacheSettings.localDirectory(environment: environment) else { throw CacheError.noCacheDirectory }
        let images = KernelImages(cacheDirectory: cache, searchPath: environment["PATH"])
        var answers: [String: Answer] = [:]
        for name in names {
            let apps = project.apps.filter { $0.btfFor.contains(name) }.map(\.name)
            let image: KernelImage
            do {
                image = try await images.resolve(name, base: project.root)
            } catch {
                throw BTFKernelError.unresolved(name: name, apps: apps, cause: Diagnostic(of: error))
            }
            guard let release = KernelBTF.release(version: image.release, file: name) else {
                throw BTFKernelError.noRelease(name: name, apps: apps)
            }
            note("swbpf: btf-for \(name): \(image.origin), release \(release)")
            answers[name] = Answer(kernel: KernelBTF(name: name, btf: image.btf, release: release), fileStamp: fileStamp(name, root: project.root))
        }
        if save, let bytes = try? JSONEncoder().encode(answers) {
            try FileSystem.writeAtomically(path(of: project), Array(bytes))
        }
        return answers.mapValues(\.kernel)
    }

    /// `[app.A] btf-for in swbpf.toml`, or the command line's --kernel for a name no table has.
    package static func `where`(_ apps: [String]) -> String {
        apps.map { "[app.\($0)] btf-for" }.joined(separator: ", ") + " in \(ProjectConfig.fileName) (or swbpf btfgen --kernel)"
    }

    private static func path(of project: Project) -> String {
        FileSystem.join(OpenedProject.stateDirectory(of: project), fileName)
    }

    /// A kernel named by a file, as `KernelImages.resolve` tells them apart: its stamp.
    private static func fileStamp(_ name: String, root: String) -> String? {
        let path = FileSystem.absolute(name, base: root)
        guard name.contains("/") || FileSystem.exists(path) else { return nil }
        return FileSystem.stat(path).map { "\($0.size) \($0.mtimeNanoseconds) \($0.inode)" } ?? "missing"
    }
}
