// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swbpf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swbpf", targets: ["swbpf"]),
        .library(name: "SwbpfCore", targets: ["SwbpfCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // fork/exec and the signal handler: what must not run Swift code (see its header).
        .target(name: "CSwbpfProcess"),
        // https for the remote cache: libcurl, loaded with dlopen only when an https remote is used.
        .target(name: "CSwbpfCurl", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "SwbpfCore",
            dependencies: [
                "CSwbpfProcess",
                "CSwbpfCurl",
            ],
            plugins: ["EmbedTemplates"]
        ),
        // templates/ compiled into SwbpfCore at build time: the plugin declares the files, the tool
        // writes the Swift source.
        .plugin(name: "EmbedTemplates", capability: .buildTool(), dependencies: ["TemplateEmbedder"]),
        .executableTarget(name: "TemplateEmbedder"),
        // The command line: swift-argument-parser commands, and a fast path for plain builds.
        .target(
            name: "SwbpfCLI",
            dependencies: [
                "SwbpfCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "swbpf",
            dependencies: ["SwbpfCLI"]
        ),
        .testTarget(
            name: "SwbpfCoreTests",
            dependencies: ["SwbpfCore", "SwbpfCLI"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
