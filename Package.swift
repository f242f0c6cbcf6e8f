// swift-tools-version:6.0
// Accord: an event-sourced collaboration log for partnerships between distant offices.
//
// Module graph: README "Layout" draws it; an arrow means "imports", nothing imports upward.
//
// - AccordParallel: the one helper for work split across threads (each task writes its own slot).
// - AccordSegments: gzip-member framing, segment files, the locked durable writer, recovery
//   (Format.md §1–§6). Knows bytes, not events.
// - AccordModel: values (identifiers, times, money), JSON, records, the catalogue, keys. No I/O.
// - AccordStore: the event store: a site's journal of events over its segments, own and
//   replicated appends, the heads cache, verification.
// - AccordProjections: folds events into the partnership's state, views, reports, snapshots.
// - AccordSync: version vectors, bundles, directory and HTTP sync (the protocol, not the wire),
//   request signing. No NIO: it signs requests and checks answers; a transport moves the bytes.
// - AccordInterchange: IATI, CSV and CloudEvents import and export (the IATI import reads XML
//   with libxml2's SAX2 push parser through CLibXML2).
// - AccordTrust: checkpoints (Journal/Trust.md): RFC 6962 Merkle trees over each feed, C2SP
//   signed notes, checkpoints, cosignatures, tlog-proof receipts, witnessing. Under the CLI,
//   over Store; no NIO.
// - AccordTLS: mutual TLS pinned to the site keys (certificates, configurations, verification).
// - AccordServer: the HTTP edges of sync on NIO: `accord serve` (Hummingbird) and the client's
//   transport, `SyncClient` (AsyncHTTPClient: no redirects, no decoding, a bounded answer; over
//   https://, TLS pinned to the peer's site key). AccordCLI: the `accord` executable.
// - AccordWeb: `accord ui`, the web view for people (Journal/UI.md): Hummingbird pages from the
//   read model, the record form through the append path's checks, bcrypt users, sessions, CSRF.
//
// Each target declares exactly the modules it imports; CI builds with
// `--explicit-target-dependency-import-check error` so that this stays true.
import PackageDescription

let package = Package(
    name: "Accord",
    products: [
        .executable(name: "accord", targets: ["AccordCLI"]),
        .library(name: "AccordSegments", targets: ["AccordSegments"]),
        .library(name: "AccordModel", targets: ["AccordModel"]),
        .library(name: "AccordStore", targets: ["AccordStore"]),
        .library(name: "AccordProjections", targets: ["AccordProjections"]),
        .library(name: "AccordSync", targets: ["AccordSync"]),
        .library(name: "AccordTrust", targets: ["AccordTrust"]),
        // For Tools/Benchmarks (a nested package), which serves journals over HTTP in a child process.
        .library(name: "AccordServer", targets: ["AccordServer"]),
        .library(name: "AccordTesting", targets: ["AccordTesting"]),
        .library(name: "AccordInterchange", targets: ["AccordInterchange"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libxml2's SAX2 push parser, for the IATI import (Journal/Import.md, "Reading the XML").
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // libdeflate's whole-buffer DEFLATE, for the member files bundles are made of (Format.md §4,
        // "Compression"; SyncProtocol.md §4.2): faster than zlib at the same level, and smaller.
        .systemLibrary(
            name: "CLibDeflate",
            pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        // glibc's <malloc.h> (malloc_trim), for the read model's long fold (Format.md §9.4.5).
        .systemLibrary(name: "CMalloc"),
        .target(name: "AccordParallel"),
        .target(
            name: "AccordSegments",
            dependencies: ["AccordParallel", "CZlib", "CLibDeflate"]
        ),
        .target(
            name: "AccordModel",
            dependencies: [
                "AccordParallel",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "AccordStore",
            dependencies: ["AccordParallel", "AccordSegments", "AccordModel"]
        ),
        .target(
            name: "AccordProjections",
            dependencies: ["AccordParallel", "AccordSegments", "AccordModel", "AccordStore", "CMalloc"]
        ),
        .target(
            name: "AccordSync",
            dependencies: ["AccordParallel", "AccordSegments", "AccordModel", "AccordStore"]
        ),
        // Checkpoints, Merkle proofs and witnessing (Journal/Trust.md): RFC 6962 trees over the
        // feeds, C2SP signed notes, checkpoints, cosignatures and tlog-proof receipts.
        .target(
            name: "AccordTrust",
            dependencies: [
                "AccordSegments", "AccordModel", "AccordStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Mutual TLS pinned to the site keys (SyncProtocol.md §4.4): certificates, configurations
        // and the verification, for the server and for any client.
        .target(
            name: "AccordTLS",
            dependencies: [
                "AccordModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "AccordInterchange",
            dependencies: [
                "AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordSync", "CLibXML2",
                .product(name: "CSV", package: "CSV.swift"),
            ]
        ),
        .target(
            name: "AccordServer",
            dependencies: [
                "AccordModel",
                "AccordSegments",
                "AccordStore",
                "AccordSync",
                "AccordTLS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The PostgreSQL mirror (Journal/Mirror.md): events and views as tables, checkpointed per
        // feed, loaded with COPY over postgres-nio.
        .target(
            name: "AccordMirror",
            dependencies: [
                "AccordSegments",
                "AccordModel",
                "AccordStore",
                "AccordProjections",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The web view (Journal/UI.md): `accord ui`, server-rendered pages from the read model, the
        // record form through the same checks and writer as `accord append`, logins and sessions.
        .target(
            name: "AccordWeb",
            dependencies: [
                "AccordModel",
                "AccordSegments",
                "AccordStore",
                "AccordProjections",
                "AccordSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "AccordTesting",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore"]
        ),
        .executableTarget(
            name: "AccordCLI",
            dependencies: [
                "AccordSegments",
                "AccordModel",
                "AccordStore",
                "AccordProjections",
                "AccordSync",
                "AccordServer",
                "AccordTLS",
                "AccordInterchange",
                "AccordMirror",
                "AccordTrust",
                "AccordWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "accord-sample",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore"],
            path: "Tools/SampleJournal"
        ),
        // Reliability campaigns (Tools/Reliability.md): the library holds the drivers' logic so
        // that the short CI runs in Tests/ReliabilityTests call the same code.
        .target(
            name: "AccordReliability",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordSync", "AccordTesting"],
            path: "Tools/Reliability/Campaigns"
        ),
        .executableTarget(
            name: "accord-crash",
            dependencies: ["AccordReliability"],
            path: "Tools/Reliability/CrashMain"
        ),
        // The mirror's crash campaign and throughput run (Journal/Mirror.md, Tools/README.md).
        .executableTarget(
            name: "accord-mirror-campaign",
            dependencies: [
                "AccordModel", "AccordStore", "AccordMirror", "AccordTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/MirrorCampaign"
        ),
        .executableTarget(
            name: "accord-abuse",
            dependencies: ["AccordReliability"],
            path: "Tools/Reliability/AbuseMain"
        ),
        .executableTarget(
            name: "accord-fuzz",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordSync", "AccordTesting"],
            path: "Tools/Fuzz",
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "AccordSegmentsTests",
            dependencies: ["AccordSegments", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordModelTests",
            dependencies: [
                "AccordModel", "AccordTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "AccordStoreTests",
            // AccordProjections: the read model's limits in Format.md's table (FormatSpecTests).
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordProjectionsTests",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordTesting"]
        ),
        .testTarget(
            name: "AccordSyncTests",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordSync", "AccordTesting"]
        ),
        // Test targets that run the built `accord` binary declare AccordCLI so that it is built first.
        .testTarget(
            name: "AccordInterchangeTests",
            dependencies: [
                "AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordInterchange",
                "AccordTesting", "AccordCLI",
                .product(name: "CSV", package: "CSV.swift"),
            ]
        ),
        .testTarget(
            name: "AccordCLITests",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordProjections", "AccordTesting", "AccordCLI"]
        ),
        .testTarget(
            name: "AccordTLSTests",
            dependencies: [
                "AccordModel", "AccordStore", "AccordSync", "AccordTLS", "AccordTesting", "AccordCLI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // `accord ui` over HTTP against the built binary (Journal/UI.md).
        .testTarget(
            name: "AccordWebTests",
            dependencies: ["AccordModel", "AccordSegments", "AccordStore", "AccordSync", "AccordProjections", "AccordWeb", "AccordTesting", "AccordCLI"]
        ),
        .testTarget(
            name: "AccordMirrorTests",
            dependencies: [
                "AccordModel", "AccordStore", "AccordProjections", "AccordMirror", "AccordTesting", "AccordCLI",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AccordTrustTests",
            dependencies: ["AccordSegments", "AccordModel", "AccordStore", "AccordTrust", "AccordTesting", "AccordCLI"]
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "AccordSegments", "AccordModel", "AccordStore", "AccordSync", "AccordReliability",
                "AccordTesting", "AccordCLI",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
