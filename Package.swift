// swift-tools-version: 6.1
import PackageDescription

// Layers, each a module that may import only those listed as its dependencies, all of them
// below it (CONTRIBUTING.md draws the graph; LayerTests fails on an import that is not listed):
//
//   SwbpfBasics      files, processes, signals, hashing, text, TOML
//   SwbpfModel       the project, the toolchain as values, steps and the pure planner
//   SwbpfToolchain   finding the tools and trees a build uses (runs probes)
//   SwbpfBuild       the executor, its state, the shared cache, and its event protocol
//   SwbpfKernel      loading programs, reading the verifier, what the kernel can do
//   SwbpfViews       what people and programs see of a build: console, JSON, explain, timings, trace
//   SwbpfScaffolding new projects and apps from the templates
//   SwbpfDriver      sessions: build, verify, run, doctor, watch, install
//   SwbpfCLI         the command line
//   swbpf            main()
let layers: [(name: String, dependencies: [Target.Dependency])] = [
    ("SwbpfBasics", ["CSwbpfProcess"]),
    ("SwbpfModel", ["SwbpfBasics"]),
    ("SwbpfToolchain", ["SwbpfBasics", "SwbpfModel"]),
    ("SwbpfBuild", ["SwbpfBasics", "SwbpfModel", "CSwbpfCurl"]),
    ("SwbpfKernel", ["SwbpfBasics", "SwbpfModel"]),
    ("SwbpfViews", ["SwbpfBasics", "SwbpfModel", "SwbpfBuild"]),
    ("SwbpfScaffolding", ["SwbpfBasics", "SwbpfModel"]),
    ("SwbpfDriver", ["SwbpfBasics", "SwbpfModel", "SwbpfToolchain", "SwbpfBuild", "SwbpfKernel", "SwbpfViews"]),
    ("SwbpfCLI", ["SwbpfBasics", "SwbpfModel", "SwbpfToolchain", "SwbpfBuild", "SwbpfKernel", "SwbpfViews", "SwbpfScaffolding",
                  "SwbpfDriver", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
]

let allLayers: [Target.Dependency] = layers.map { .target(name: $0.name) }
let unitTested = ["SwbpfBasics", "SwbpfModel", "SwbpfBuild", "SwbpfKernel", "SwbpfScaffolding", "SwbpfDriver", "SwbpfCLI"]

let package = Package(
    name: "swbpf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swbpf", targets: ["swbpf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: layers.map { layer in
        // templates/ is compiled into SwbpfScaffolding at build time: the plugin declares the
        // files, the tool writes the Swift source.
        .target(name: layer.name, dependencies: layer.dependencies,
                plugins: layer.name == "SwbpfScaffolding" ? ["EmbedTemplates"] : layer.name == "SwbpfCLI" ? ["EmbedCommit"] : [])
    } + [
        // fork/exec and the signal handler: what must not run Swift code (see its header).
        .target(name: "CSwbpfProcess"),
        // https for the remote cache: libcurl, loaded with dlopen only when an https remote is used.
        .target(name: "CSwbpfCurl", linkerSettings: [.linkedLibrary("dl")]),
        .plugin(name: "EmbedTemplates", capability: .buildTool(), dependencies: ["TemplateEmbedder"]),
        .executableTarget(name: "TemplateEmbedder"),
        // The git commit for `swbpf --version`, read from .git at build time (nil from a tarball).
        .plugin(name: "EmbedCommit", capability: .buildTool(), dependencies: ["CommitStamper"]),
        .executableTarget(name: "CommitStamper"),
        .executableTarget(name: "swbpf", dependencies: ["SwbpfCLI"]),
        // Tests: one unit target per layer (pure logic, fakes, no compiler: seconds), and the
        // integration suites (the real swbpf binary, clang, bpftool, the kernel, nginx, qemu).
        // CONTRIBUTING.md says how to run each group.
        .target(name: "SwbpfTestSupport", dependencies: allLayers, path: "Tests/SwbpfTestSupport"),
    ] + unitTested.map { layer in
        .testTarget(name: layer + "Tests", dependencies: [.target(name: layer), "SwbpfTestSupport"])
    } + [
        .testTarget(name: "SwbpfIntegrationTests", dependencies: allLayers + ["SwbpfTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
