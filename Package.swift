// swift-tools-version:6.0
// Accord: an event-sourced collaboration log for partnerships between distant offices.
// Layering (DESIGN.md): AccordCLI → AccordProjections → AccordModel → AccordJournal → CZlib;
// AccordInterchange (IATI, CSV, CloudEvents import and export) sits beside AccordSync.
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "accord", targets: ["AccordCLI"]),
        .library(name: "AccordJournal", targets: ["AccordJournal"]),
        .library(name: "AccordModel", targets: ["AccordModel"]),
        .library(name: "AccordProjections", targets: ["AccordProjections"]),
        .library(name: "AccordSync", targets: ["AccordSync"]),
        // For Tools/Benchmarks (a nested package), which serves journals over HTTP in a child process.
        .library(name: "AccordServer", targets: ["AccordServer"]),
        .library(name: "AccordTesting", targets: ["AccordTesting"]),
        .library(name: "AccordInterchange", targets: ["AccordInterchange"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "AccordJournal",
            dependencies: ["CZlib"]
        ),
        .target(
            name: "AccordModel",
            dependencies: [
                "AccordJournal",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AccordProjections",
            dependencies: ["AccordJournal", "AccordModel"]
        ),
        .target(
            name: "AccordSync",
            dependencies: ["AccordJournal", "AccordModel", "AccordProjections"]
        ),
        .target(
            name: "AccordInterchange",
            dependencies: [
                "AccordJournal", "AccordModel", "AccordProjections", "AccordSync",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AccordServer",
            dependencies: [
                "AccordModel",
                "AccordSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "AccordTesting",
            dependencies: ["AccordJournal", "AccordModel", "AccordProjections", "AccordSync"]
        ),
        .executableTarget(
            name: "AccordCLI",
            dependencies: [
                "AccordJournal",
                "AccordModel",
                "AccordProjections",
                "AccordSync",
                "AccordServer",
                "AccordInterchange",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "accord-sample",
            dependencies: ["AccordJournal", "AccordModel"],
            path: "Tools/SampleJournal"
        ),
        // Reliability campaigns (Tools/Reliability.md): the library holds the drivers' logic so
        // that the short CI runs in Tests/ReliabilityTests call the same code.
        .target(
            name: "AccordReliability",
            dependencies: ["AccordModel", "AccordSync", "AccordTesting"],
            path: "Tools/Reliability/Campaigns"
        ),
        .executableTarget(
            name: "accord-crash",
            dependencies: ["AccordReliability"],
            path: "Tools/Reliability/CrashMain"
        ),
        .executableTarget(
            name: "accord-abuse",
            dependencies: ["AccordReliability"],
            path: "Tools/Reliability/AbuseMain"
        ),
        .executableTarget(
            name: "accord-fuzz",
            dependencies: ["AccordJournal", "AccordModel", "AccordProjections", "AccordSync", "AccordTesting"],
            path: "Tools/Fuzz",
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "AccordJournalTests",
            dependencies: ["AccordJournal", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordModelTests",
            dependencies: ["AccordModel", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordProjectionsTests",
            dependencies: ["AccordProjections", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordSyncTests",
            dependencies: ["AccordSync", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordInterchangeTests",
            dependencies: ["AccordInterchange", "AccordTesting", "AccordCLI"]
        ),
        .testTarget(
            name: "AccordCLITests",
            dependencies: ["AccordModel", "AccordTesting", "AccordCLI"]
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["AccordReliability", "AccordTesting", "AccordJournal", "AccordCLI"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
