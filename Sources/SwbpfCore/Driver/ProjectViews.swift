import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// compile_commands.json: the exact compile commands of the plan, for clangd and other tools.
public enum CompilationDatabase {
    public static let fileName = "compile_commands.json"

    public struct Entry: Codable, Equatable {
        public var directory: String
        public var file: String
        public var arguments: [String]
        public var output: String
    }

    public static func entries(for steps: [Step], root: String) -> [Entry] {
        steps.filter(\.kind.compilesSource).compactMap { step in
            guard let source = step.inputs.first else { return nil }
            return Entry(directory: root, file: source, arguments: step.displayCommand, output: step.primaryOutput)
        }
    }

    /// Writes the database for every compile in the plan into the project root.
    @discardableResult
    public static func write(plan: BuildPlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(entries(for: plan.steps, root: plan.projectRoot))
        let path = FileSystem.join(plan.projectRoot, fileName)
        try FileSystem.writeAtomically(path, Array(data) + [0x0A])
        return path
    }
}

/// `swbpf clean`: removes what swbpf produced, and nothing else.
public enum Cleaner {
    /// The outputs to remove for `apps` (every app when empty): step outputs, their temporaries,
    /// and, for a full clean, swbpf's state and reports. Shared outputs (vmlinux.h, helper objects)
    /// stay unless every app is cleaned.
    public static func removals(plan: BuildPlan, apps: [String], stateDirectory: String) -> [String] {
        var paths = steps(of: plan, apps: apps).flatMap(\.products)
        if apps.isEmpty {
            paths += [FileSystem.join(stateDirectory, "state"), FileSystem.join(stateDirectory, "lock"),
                      FileSystem.join(plan.outputDirectory, TimingsReport.fileName)]
        }
        return paths
    }

    /// The steps of `apps`, or every step when none is named.
    static func steps(of plan: BuildPlan, apps: [String]) -> [Step] {
        apps.isEmpty ? plan.steps : plan.steps.filter { $0.app.map(apps.contains) ?? false }
    }

    /// Removes the files; returns those that existed. Directories go only if they end up empty.
    public static func clean(plan: BuildPlan, apps: [String], stateDirectory: String) -> [String] {
        let paths = removals(plan: plan, apps: apps, stateDirectory: stateDirectory).map { FileSystem.join(plan.projectRoot, $0) }
        let removed = paths.filter { FileSystem.remove($0) }
        // Temporaries of killed builds, for the same outputs, the depfiles and the state.
        let state = FileSystem.join(stateDirectory, "state")
        let depfiles = steps(of: plan, apps: apps).compactMap(\.depfile).map { FileSystem.join(plan.projectRoot, $0) }
        for path in Set(paths + depfiles + [state]) {
            let (directory, base) = FileSystem.split(path)
            FileSystem.removeStaleTemporaries(in: directory, base: base)
        }
        if apps.isEmpty {
            _ = rmdir(stateDirectory)
            _ = rmdir(FileSystem.join(plan.projectRoot, plan.outputDirectory))
        }
        return removed
    }
}

/// Where `--timings` writes its HTML report.
public enum TimingsReport {
    public static let fileName = "swbpf-timings.html"
}
