import AccordModel
import AccordStore
import AccordSync
import AccordTLS
import AccordTesting
import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sites of one partnership for the TLS tests: `astana` serves, `brussels` and `almaty` are its
/// trusted peers, `lusaka` is a site nobody here trusts.
final class TLSSites {
    let temp = TemporaryDirectory("tls")
    var journals: [String: EventJournal] = [:]

    init() throws {
        for site in ["astana", "brussels", "almaty", "lusaka"] {
            journals[site] = try EventJournal.create(at: temp.child(site), site: SiteID(site), seed: Fixtures.seed(site), partnership: "eu-kz-2022")
        }
        for (receiver, senders) in [("astana", ["brussels", "almaty"]), ("brussels", ["astana"]), ("almaty", ["astana"])] {
            for sender in senders { try journals[receiver]!.trust(try journals[sender]!.signingKey().publicKey, for: journals[sender]!.site) }
        }
    }

    subscript(site: String) -> EventJournal { journals[site]! }

    func key(_ site: String) throws -> SitePublicKey { try journals[site]!.signingKey().publicKey }

    /// Starts `accord serve` on `site`'s journal, with `--tls` or not.
    func serve(_ site: String, tls: Bool) throws -> (process: Process, url: String) {
        try AccordExecutable.serve(journal: journals[site]!.path, scratch: temp.path, tls: tls)
    }
}

/// The AsyncHTTPClient set up as a sync client of `journal` must be (SyncProtocol.md §4.4): its
/// own certificate, the server's key pinned to `expected` before any request is written, and no
/// retry of a refused connection. With `expected` nil, a plain HTTP client.
func syncClient(for journal: EventJournal, expecting expected: SitePublicKey?) throws -> HTTPClient {
    var configuration = HTTPClient.Configuration()
    configuration.httpVersion = .http1Only
    configuration.connectionPool.retryConnectionEstablishment = false
    if let expected {
        configuration.tlsConfiguration = try SiteTLS.clientConfiguration(key: try journal.signingKey(), site: journal.site, partnership: journal.partnership)
        configuration.http1_1ConnectionDebugInitializer = { channel in SiteTLS.checkServer(on: channel, expected: expected) }
    }
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}

/// Sends one signed request as `signer` and returns the status and body.
func signedRequest(_ client: HTTPClient, _ url: String, _ method: String, _ path: String, body: [UInt8] = [], signer: EventJournal, to destination: String = "*") async throws -> (status: Int, body: [UInt8]) {
    var request = HTTPClientRequest(url: url + path)
    request.method = .init(rawValue: method)
    for (name, value) in try RequestSigning.headers(for: signer, method: method, path: path, body: body, to: destination) {
        request.headers.add(name: name, value: value)
    }
    if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: .seconds(30))
    let collected = try await response.body.collect(upTo: 1 << 24)
    return (Int(response.status.code), Array(collected.readableBytesView))
}

/// A TCP relay on 127.0.0.1 in front of `target`: what an observer on the path sees. It
/// records every byte from the client (`upstream`) and from the server (`downstream`).
final class RecordingRelay: Sendable {
    let upstream = NIOLockedValueBox<[UInt8]>([])
    let downstream = NIOLockedValueBox<[UInt8]>([])
    private let listener: NIOLockedValueBox<(any Channel)?> = .init(nil)

    /// The port the relay listens on.
    var port: Int { listener.withLockedValue { $0?.localAddress?.port ?? 0 } }

    init(to targetPort: Int) async throws {
        let upstream = self.upstream, downstream = self.downstream
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        outbound.eventLoop.makeCompletedFuture {
                            try outbound.pipeline.syncOperations.addHandler(Forwarder(partner: inbound, record: downstream))
                        }
                    }
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMapThrowing { outbound in
                        try inbound.pipeline.syncOperations.addHandler(Forwarder(partner: outbound, record: upstream))
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        listener.withLockedValue { $0 = channel }
    }

    func close() async {
        let channel = listener.withLockedValue { $0 }
        try? await channel?.close()
    }

    /// What the observer can read: the bytes as they passed, and the records of every bundle
    /// (gzip members) it could find and inflate in them.
    static func readable(_ bytes: [UInt8]) -> [UInt8] {
        var view = bytes
        if let start = bytes.indices.first(where: { bytes[$0...].starts(with: [0x1f, 0x8b, 0x08]) }),
            let bundle = try? Bundle.parse(bytes: Array(bytes[start...]))
        {
            for record in bundle.records { view += record }
        }
        return view
    }

    /// Copies what one side sends to the other, recording it.
    final class Forwarder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let partner: any Channel
        let record: NIOLockedValueBox<[UInt8]>

        init(partner: any Channel, record: NIOLockedValueBox<[UInt8]>) {
            self.partner = partner
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            record.withLockedValue { $0 += buffer.readableBytesView }
            partner.writeAndFlush(buffer, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}

extension [UInt8] {
    /// Whether `text`'s UTF-8 bytes occur in these bytes.
    func contains(text: String) -> Bool {
        let needle = Array(text.utf8)
        guard needle.count <= count else { return false }
        return indices.dropLast(needle.count - 1).contains { self[$0...].starts(with: needle) }
    }
}
