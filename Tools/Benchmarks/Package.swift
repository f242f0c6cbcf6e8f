// swift-tools-version:6.0
// Accord's benchmarks beside SQLite and gzip'd JSON Lines (issue 6). A nested package, so that the
// root package, its tests and CI never need libsqlite3: `swift build -c release` here.
import PackageDescription

let package = Package(
    name: "AccordBenchmarks",
    dependencies: [
        .package(name: "Accord", path: "../.."),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "BenchZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .executableTarget(
            name: "accord-benchmarks",
            dependencies: [
                "CSQLite",
                "BenchZlib",
                .product(name: "AccordSegments", package: "Accord"),
                .product(name: "AccordModel", package: "Accord"),
                .product(name: "AccordStore", package: "Accord"),
                .product(name: "AccordProjections", package: "Accord"),
                .product(name: "AccordSync", package: "Accord"),
                .product(name: "AccordServer", package: "Accord"),
                .product(name: "AccordTesting", package: "Accord"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
