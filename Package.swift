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
            ]
        ),
        .executableTarget(
            name: "swbpf",
            dependencies: [
                "SwbpfCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SwbpfCoreTests",
            dependencies: ["SwbpfCore"]
        ),
    ],
    swiftLanguageModes: [.v5]
)
