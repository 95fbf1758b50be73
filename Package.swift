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
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "SwbpfCore",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Crypto", package: "swift-crypto"),
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
    swiftLanguageModes: [.v5]
)
