import SwbpfBasics
import SwbpfKernel
import SwbpfModel

/// The quick answer to "which kernels can run this app?": the newest of the first releases that
/// have what its objects use (program types, map types, helpers, kfuncs), read from the built
/// objects without loading anything. Booting the kernel (`swbpf verify --kernel X --vm`) is the
/// truth: a helper call guarded by bpf_core_enum_value_exists() still counts here.
package struct AppMinimum: Sendable, Codable, Equatable {
    package var app: String
    /// nil when no object was built or nothing in it is dated.
    package var version: KernelVersion?
    /// What needs `version`.
    package var because: [String]
    /// What the table does not date.
    package var undated: [String]

    /// `app ringbuf needs Linux ≥ 5.8: BPF_MAP_TYPE_RINGBUF, bpf_ringbuf_reserve`.
    package var sentence: String? {
        guard let version else { return nil }
        return "app \(app) needs Linux ≥ \(version): " + because.joined(separator: ", ")
            + (undated.isEmpty ? "" : " (not in swbpf's table of kernel history: \(undated.joined(separator: ", ")))")
    }
}

package enum MinimumKernel {
    package static let caveat = "the minimum is the quick answer, read from each object's program types, maps, helpers and kfuncs; 'swbpf verify --kernel VERSION --vm' boots that kernel and is the truth"

    /// The minimum of an app from its objects (paths relative to `root`); objects not built yet
    /// are left out.
    package static func of(app: String, objects: [String], root: String) -> AppMinimum {
        let read = objects.compactMap { ObjectRequirements(file: FileSystem.absolute($0, base: root)) }
        let needs = read.flatMap { $0.programs.flatMap(\.needs) }
        let minimum = ObjectRequirements.minimum(of: needs)
        var seen = Set<String>()
        return AppMinimum(app: app, version: minimum?.version, because: minimum?.because ?? [],
                          undated: read.flatMap(\.undated).filter { seen.insert($0).inserted })
    }

    /// The selected apps of a planned project, from the objects its plan links.
    package static func of(_ opened: OpenedProject) -> [AppMinimum] {
        opened.selectedApps.filter { !$0.isProgram }.map { app in
            of(app: app.name, objects: opened.plan.steps.filter { $0.kind == .bpfLink && $0.app == app.name }.map(\.primaryOutput),
               root: opened.project.root)
        }
    }

    /// The objects the planner links for `app` (`<output>/PART.bpf.o`), for doctor, which plans nothing.
    package static func objects(of app: App, in project: Project) -> [String] {
        app.kernelParts.map { FileSystem.join(project.outputDirectory, $0.name + ".bpf.o") }
    }

    /// One line per app with a minimum, then the caveat.
    package static func report(_ minimums: [AppMinimum]) -> String {
        let lines = minimums.compactMap { $0.sentence.map { "swbpf: " + $0 } }
        return lines.isEmpty ? "" : (lines + ["note: " + caveat]).joined(separator: "\n") + "\n"
    }

    /// A warning for each app that needs a newer kernel than `version`, the release of the kernel
    /// `--kernel` named `kernel`.
    package static func warnings(_ minimums: [AppMinimum], kernel: String, version: KernelVersion) -> String {
        minimums.compactMap { minimum -> String? in
            guard let needed = minimum.version, version < needed else { return nil }
            return "warning: kernel \(kernel) (Linux \(version)) is older than app \(minimum.app) needs: Linux ≥ \(needed) for "
                + minimum.because.joined(separator: ", ") + "\n"
        }.joined()
    }

    /// The release a `--kernel` word names without fetching anything: `5.4`, `6.1.192-3`; nil for
    /// a file or a package name.
    package static func version(named name: String, base: String) -> KernelVersion? {
        name.contains("/") || FileSystem.exists(FileSystem.absolute(name, base: base)) ? nil : KernelVersion(parsing: name)
    }
}
