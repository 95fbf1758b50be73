import SwbpfBasics
import SwbpfModel

extension ToolchainResolver {
    /// The Swift apps this build compiles.
    package var swiftApps: [String] { project.apps.filter(project.buildsSwift).map(\.name) }

    /// swiftc and printf, when the project has a Swift app (else none): SWIFTC, else swiftc on
    /// PATH, else the swiftc of the toolchain whose runtime this swbpf runs on.
    package func locateSwiftTools() throws -> [Tool] {
        let apps = swiftApps
        guard !apps.isEmpty else { return [] }
        var swiftc: Tool
        do {
            swiftc = try locate(.swiftc)
        } catch ToolchainError.toolNotFound(_, let tried, _, _) {
            let knobSet = !(environment[ToolRole.swiftc.knob] ?? "").isEmpty
            guard !knobSet, let beside = Self.swiftcBesideRuntime(), let found = try? locate(.swiftc, configured: beside) else {
                throw ToolchainError.swiftcNotFound(tried: tried + (knobSet ? [] : Self.swiftcBesideRuntime().map { [$0] } ?? []), apps: apps)
            }
            swiftc = found
        }
        return [swiftc, try locate(.printf)]
    }

    /// The Swift tools with their versions, and libbpf's headers for `libbpf`.
    package func swiftTools(_ tools: [Tool], answers: [[String]], libbpf: Libbpf) -> SwiftTools? {
        guard tools.count == 2, answers.count == 2 else { return nil }
        var swiftc = tools[0], printf = tools[1]
        swiftc.version = answers[0].first ?? "unknown"
        printf.version = answers[1].first ?? "unknown"
        var headers: [String] = []
        if libbpf.sourceBuild == nil {
            let directory = FileSystem.join(libbpf.includeDirectory ?? "/usr/include", "bpf")
            headers = (FileSystem.list(directory) ?? []).filter { $0.hasSuffix(".h") }.sorted().map { FileSystem.join(directory, $0) }
        }
        return SwiftTools(swiftc: swiftc, printf: printf, libbpfHeaders: headers)
    }

    /// The swiftc of the Swift toolchain whose runtime this process has loaded
    /// (`PREFIX/usr/lib/swift/linux/libswiftCore.so` gives `PREFIX/usr/bin/swiftc`): the one swbpf
    /// was built with. Nil for a swbpf linked with the static standard library.
    package static func swiftcBesideRuntime() -> String? {
        guard let maps = FileSystem.readText("/proc/self/maps") else { return nil }
        let library = "/lib/swift/linux/libswiftCore.so"
        for line in maps.split(separator: "\n") {
            guard let start = line.firstIndex(of: "/"), line.hasSuffix(library) else { continue }
            let path = String(line[start...])
            let prefix = path.dropLast(library.count)
            let swiftc = String(prefix) + "/bin/swiftc"
            return FileSystem.isExecutableFile(swiftc) ? swiftc : nil
        }
        return nil
    }
}
