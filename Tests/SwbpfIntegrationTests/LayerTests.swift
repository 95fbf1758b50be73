import Foundation
import Testing
import SwbpfTestSupport

/// The layers of Package.swift, as its `layers` table declares them: each module with the modules
/// it may import. Read from the manifest's text, so the table stays the one place they are written.
struct Layers {
    var order: [String] = []
    var dependencies: [String: Set<String>] = [:]

    init(manifest: String) throws {
        // ("SwbpfModel", ["SwbpfBasics"]), possibly over two lines: the name, then its list.
        let entry = try Regex(#"\("(Swbpf\w+)",\s*\[([^\]]*)\]"#)
        for match in manifest.matches(of: entry) {
            let name = String(match.output[1].substring ?? "")
            let listed = (match.output[2].substring ?? "").matches(of: try Regex(#""(Swbpf\w+)""#))
                .map { String($0.output[1].substring ?? "") }
            order.append(name)
            dependencies[name] = Set(listed)
        }
    }
}

/// The modules a Swift file imports (`import X`, `@testable import X`), with their line numbers.
func imports(of path: String) throws -> [(module: String, line: Int)] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
        let words = line.split(separator: " ")
        guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
              words[..<at].allSatisfy({ $0 == "@testable" }) else { return nil }
        return (String(words[at + 1]), index + 1)
    }
}

func swiftFiles(under directory: String) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: directory)
    return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }.sorted()
        .map { directory + "/" + $0 }
}

/// The compiler refuses a cycle between modules, but not an import of a module that a target does
/// not declare (it is found among the built modules all the same): these tests do.
@Suite struct LayerTests {
    let layers: Layers

    init() throws {
        layers = try Layers(manifest: String(contentsOfFile: repositoryRoot + "/Package.swift", encoding: .utf8))
    }

    @Test func everyLayerDependsOnlyOnLayersBelowIt() throws {
        #expect(layers.order.count >= 8, "Package.swift's layers table was not read: \(layers.order)")
        for (position, layer) in layers.order.enumerated() {
            let below = Set(layers.order[..<position])
            let upward = layers.dependencies[layer, default: []].subtracting(below)
            #expect(upward.isEmpty, "\(layer) depends on \(upward.sorted()), which are not below it in Package.swift's layers")
        }
    }

    @Test func everySourceImportsOnlyTheLayersItsModuleDeclares() throws {
        var checked = 0
        for layer in layers.order {
            let allowed = layers.dependencies[layer, default: []]
            for file in swiftFiles(under: repositoryRoot + "/Sources/" + layer) {
                for (module, line) in try imports(of: file) where module.hasPrefix("Swbpf") {
                    #expect(allowed.contains(module),
                            "\(file):\(line): \(layer) imports \(module), which Package.swift does not list among its dependencies")
                }
                checked += 1
            }
        }
        #expect(checked > 50, "only \(checked) source files found under Sources/")
    }

    /// A unit test target tests its own layer with what is below it: a test of the planner that
    /// needs the executor belongs to a higher layer's tests.
    @Test func unitTestsImportOnlyTheirLayerAndWhatItMayUse() throws {
        for layer in layers.order {
            let directory = repositoryRoot + "/Tests/" + layer + "Tests"
            guard FileManager.default.fileExists(atPath: directory) else { continue }
            let allowed = layers.dependencies[layer, default: []].union([layer, "SwbpfTestSupport"])
            for file in swiftFiles(under: directory) {
                for (module, line) in try imports(of: file) where module.hasPrefix("Swbpf") {
                    #expect(allowed.contains(module), "\(file):\(line): \(layer)Tests imports \(module), a layer above \(layer)")
                }
            }
        }
    }
}
