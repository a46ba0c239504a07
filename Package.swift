// swift-tools-version: 6.1
// Haven: firmware core, host tools and simulator for a field survey tablet.
// See ../shared/DESIGN.md for the layers; each target below is one of them.
import PackageDescription

let package = Package(
    name: "Haven",
    products: [
        .library(name: "HavenCore", targets: ["HavenCore"]),
        .executable(name: "haven", targets: ["haven"]),
        .executable(name: "haven-sim", targets: ["haven-sim"]),
        .executable(name: "haven-bench", targets: ["haven-bench"]),
        .executable(name: "haven-device", targets: ["haven-device"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The pull-station ledger (SQLite).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // The portable core: Swift standard library only, Embedded-Swift clean.
        .target(name: "HavenCore"),

        // libsodium through pkg-config; the crypto suite the core is generic over.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "HavenSodium", dependencies: ["HavenCore", "CSodium"]),

        // libusb-1.0 through pkg-config; the host's USB transport.
        .systemLibrary(
            name: "CLibUSB",
            pkgConfig: "libusb-1.0",
            providers: [.apt(["libusb-1.0-0-dev"])]
        ),

        // libxml2 through pkg-config: the XForm reader's XML parser (used
        // directly: Foundation's XMLParser glue traps on some hostile input).
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),

        // Counts heap allocations per thread (tests and benchmarks only).
        .target(name: "CAllocCounter"),

        // Device runtime: the core on platform drivers (file flash, board profiles).
        .target(name: "HavenDevice", dependencies: ["HavenCore", "HavenSodium"]),

        // Host library: compiler, configs, transports, pull, export.
        .target(
            name: "HavenHost",
            dependencies: [
                "HavenCore", "HavenSodium", "HavenDevice", "CLibUSB", "CLibXML2",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        .executableTarget(
            name: "haven",
            dependencies: [
                "HavenHost", "HavenDevice",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "haven-sim",
            dependencies: [
                "HavenDevice",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The Linux device runtime on a tablet (FunctionFS USB link, hardening).
        .executableTarget(
            name: "haven-device",
            dependencies: [
                "HavenDevice", "HavenCore", "HavenSodium",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "haven-bench",
            dependencies: [
                "HavenDevice", "HavenSodium", "HavenHost", "CSodium", "CAllocCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "HavenCoreTests", dependencies: ["HavenCore", "HavenSodium", "CAllocCounter"]),
        .testTarget(name: "HavenSodiumTests", dependencies: ["HavenSodium", "HavenCore"]),
        .testTarget(name: "HavenDeviceTests", dependencies: ["HavenDevice", "HavenCore", "HavenSodium", "HavenHost"]),
        .testTarget(name: "HavenHostTests", dependencies: ["HavenHost", "HavenCore"]),
        // Runs the real haven-sim binary (headless pipes, a pseudo-terminal, kill -9, power cuts).
        .testTarget(name: "HavenSimTests", dependencies: ["HavenHost", "HavenDevice", "HavenCore", "HavenSodium"]),
    ],
    swiftLanguageModes: [.v6]
)
