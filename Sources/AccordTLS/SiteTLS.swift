import AccordModel
import Crypto
import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// Mutual TLS pinned to the site keys (SyncProtocol.md §4.4): no certificate authority and
/// nothing new to distribute.
///
/// Each site presents a self-signed certificate for its own Ed25519 site key (made here, the
/// same bytes every time), and each side accepts the other only if the certificate's key is the
/// key it already trusts for that peer (`keys/<site>.pub`). TLS proves that the peer holds the
/// private key of the certificate it presented (its `CertificateVerify` signature, which TLS
/// 1.3 always checks); the certificate's own signature, names and dates are not what is trusted.
///
/// - The server (``serverConfiguration(key:site:partnership:)`` with
///   ``verifyClient(_:trusted:)``) requires a client certificate and accepts any trusted site's
///   key; the HTTP layer then checks that the site a request names is the site whose key the
///   connection authenticated (``authenticatedKey(of:)``).
/// - The client (``clientConfiguration(key:site:partnership:)``) presents its own certificate
///   and, once the handshake is done and before any request is sent, checks the server's
///   leaf key against the one key it trusts for that peer (``checkServer(on:expected:)``).
public enum SiteTLS {
    /// The lowest (and only) TLS version spoken: 1.3, in which the certificates themselves are
    /// encrypted, so that an observer does not learn the site names either.
    public static let tlsVersion = TLSVersion.tlsv13

    /// The certificate's `notBefore`: 2000-01-01T00:00:00Z (UTCTime). Fixed, so that the
    /// certificate is the same bytes every time it is made; dates are not checked.
    public static let validFrom = Date(timeIntervalSince1970: 946_684_800)

    /// The certificate's `notAfter`: 9999-12-31T23:59:59Z (GeneralizedTime), RFC 5280
    /// §4.1.2.5's "no well-defined expiration date". A site's certificate lives as long as its
    /// key is trusted; revoking it is removing the key (`accord peer remove`).
    public static let validUntil = Date(timeIntervalSince1970: 253_402_300_799)

    /// The certificate's serial number: 1 (each site issues exactly one certificate, for its key).
    public static let serialNumber: [UInt8] = [0x01]

    /// A site's certificate and private key, as NIOSSL takes them.
    public struct Identity: Sendable {
        /// The certificate's DER bytes (SyncProtocol.md §4.4.1).
        public let certificateDER: [UInt8]
        /// The certificate, for a `TLSConfiguration`'s `certificateChain`.
        public let certificate: NIOSSLCertificate
        /// The site's private key, for a `TLSConfiguration`'s `privateKey`.
        public let privateKey: NIOSSLPrivateKey
    }

    /// Makes the self-signed certificate for `key` (SyncProtocol.md §4.4.1): X.509 v3, serial 1,
    /// subject and issuer `O=<partnership>, CN=<site>`, valid from ``validFrom`` to
    /// ``validUntil``, extensions basicConstraints `cA=FALSE` (critical), keyUsage
    /// digitalSignature (critical) and extKeyUsage serverAuth and clientAuth, no
    /// subjectAltName; signed with Ed25519. Ed25519 signatures are deterministic, so the same
    /// key, site and partnership always give the same bytes.
    /// - Parameters:
    ///   - key: the site's signing key.
    ///   - site: the site's name, the certificate's common name.
    ///   - partnership: the partnership's identifier, the certificate's organization.
    /// - Returns: the certificate and key, ready for NIOSSL.
    /// - Throws: ``AccordError`` `.badInput` when a name cannot be encoded or NIOSSL refuses
    ///   the certificate or key (neither happens with a valid site name and partnership slug).
    public static func identity(key: SiteKey, site: SiteID, partnership: String) throws -> Identity {
        do {
            let signing = try Curve25519.Signing.PrivateKey(rawRepresentation: key.seed)
            let privateKey = Certificate.PrivateKey(signing)
            let name = try DistinguishedName {
                OrganizationName(partnership)
                CommonName(site.rawValue)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(bytes: serialNumber),
                publicKey: privateKey.publicKey,
                notValidBefore: validFrom,
                notValidAfter: validUntil,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ed25519,
                extensions: extensions,
                issuerPrivateKey: privateKey)
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            let der = serializer.serializedBytes
            let pem = try privateKey.serializeAsPEM().pemString
            return Identity(
                certificateDER: der,
                certificate: try NIOSSLCertificate(bytes: der, format: .der),
                privateKey: try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem))
        } catch let error as AccordError {
            throw error
        } catch {
            throw AccordError(.badInput, "Could not make the TLS certificate of site '\(site)' (partnership '\(partnership.prefix(80))'): \(error).", underlying: error)
        }
    }

    /// The server's configuration: TLS 1.3, Ed25519, the site's certificate, and a client
    /// certificate required. Certificate verification is left to ``verifyClient(_:trusted:)``,
    /// which the server installs as its custom verification callback (Hummingbird's
    /// `TLSChannelConfiguration(tlsConfiguration:customVerificationCallback:)`); without that
    /// callback, this configuration would check client certificates against no roots and
    /// refuse them all.
    /// - Parameters:
    ///   - key: the serving site's signing key.
    ///   - site: the serving site.
    ///   - partnership: the journal's partnership.
    /// - Throws: as ``identity(key:site:partnership:)``.
    public static func serverConfiguration(key: SiteKey, site: SiteID, partnership: String) throws -> TLSConfiguration {
        let identity = try identity(key: key, site: site, partnership: partnership)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(identity.certificate)],
            privateKey: .privateKey(identity.privateKey))
        configuration.minimumTLSVersion = tlsVersion
        configuration.certificateVerification = .noHostnameVerification  // a client certificate is required
        configuration.trustRoots = .certificates([])  // no authority: the callback decides
        configuration.sendCANameList = false
        configuration.signingSignatureAlgorithms = [.ed25519]
        configuration.verifySignatureAlgorithms = [.ed25519]
        return configuration
    }

    /// The client's configuration: TLS 1.3, Ed25519, the site's certificate for the server to
    /// check. NIOSSL's own verification is off (it would want an authority and a host name);
    /// the server's key is checked by ``checkServer(on:expected:)`` once the handshake is done
    /// and before the first request is written. A client that uses this configuration without
    /// that check has no authentication of the server.
    /// - Parameters:
    ///   - key: the client site's signing key.
    ///   - site: the client site.
    ///   - partnership: the journal's partnership.
    /// - Throws: as ``identity(key:site:partnership:)``.
    public static func clientConfiguration(key: SiteKey, site: SiteID, partnership: String) throws -> TLSConfiguration {
        let identity = try identity(key: key, site: site, partnership: partnership)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = tlsVersion
        configuration.certificateChain = [.certificate(identity.certificate)]
        configuration.privateKey = .privateKey(identity.privateKey)
        configuration.certificateVerification = .none  // checkServer(on:expected:) pins the key
        configuration.trustRoots = .certificates([])
        configuration.signingSignatureAlgorithms = [.ed25519]
        configuration.verifySignatureAlgorithms = [.ed25519]
        return configuration
    }

    /// The DER SubjectPublicKeyInfo of a site's public key, as a certificate for it carries it
    /// (RFC 8410 §4: 12 fixed bytes, then the 32 key bytes).
    /// - Throws: ``AccordError`` `.badInput` when `key` is not an Ed25519 public key.
    public static func subjectPublicKeyInfo(of key: SitePublicKey) throws -> [UInt8] {
        guard let raw = Base64.decode(key.base64), let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw AccordError(.badInput, "A trusted key is not an Ed25519 public key; check keys/*.pub.", field: "key")
        }
        return Array(Certificate.PublicKey(publicKey).subjectPublicKeyInfoBytes)
    }

    /// The SubjectPublicKeyInfo of a certificate, or nil when swift-certificates cannot parse
    /// it (NIOSSL's `extractPublicKey` does not read Ed25519 keys).
    static func subjectPublicKeyInfo(of certificate: NIOSSLCertificate) -> [UInt8]? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return Array(parsed.publicKey.subjectPublicKeyInfoBytes)
    }

    /// The trusted site whose key `certificate` carries, or nil.
    /// - Parameters:
    ///   - certificate: a peer's leaf certificate.
    ///   - trusted: the journal's trusted keys by site.
    /// - Returns: the site; when several sites share the key (never in a sound journal), the
    ///   first by name.
    public static func site(of certificate: NIOSSLCertificate, trusted: [SiteID: SitePublicKey]) -> SiteID? {
        guard let presented = subjectPublicKeyInfo(of: certificate) else { return nil }
        return trusted.keys.sorted().first { (try? subjectPublicKeyInfo(of: trusted[$0]!)) == presented }
    }

    /// Whether `certificate` carries an Ed25519 key whose SHA-256 (of its 32 raw bytes, lower-case
    /// hex) is one of `digests`: a site's committed next key, which a peer that has not yet
    /// received the site's rotation accepts in place of the key in force (Trust.md "Transport").
    public static func certificate(_ certificate: NIOSSLCertificate, carriesKeyWithDigestIn digests: Set<String>) -> Bool {
        // What swift-certificates gives for an Ed25519 key ends with its 32 bytes (for Ed25519 it
        // is those bytes alone); the key is the one carried when what it gives for that key is
        // the certificate's, byte for byte.
        guard !digests.isEmpty, let spki = subjectPublicKeyInfo(of: certificate), spki.count >= 32,
              let key = try? SitePublicKey(base64: Base64.encode(Array(spki.suffix(32)))),
              (try? subjectPublicKeyInfo(of: key)) == spki else { return false }
        return digests.contains(KeyHistory.digest(of: key))
    }

    /// Whether `certificate` carries exactly `key`.
    public static func certificate(_ certificate: NIOSSLCertificate, carries key: SitePublicKey) -> Bool {
        guard let presented = subjectPublicKeyInfo(of: certificate), let expected = try? subjectPublicKeyInfo(of: key) else { return false }
        return presented == expected
    }

    /// The server's verification of a client's certificates: accepted only if the leaf
    /// certificate (the first) carries the key of a site the journal trusts. Install it as the
    /// custom verification callback of the server's TLS handler; `trusted` is read on a
    /// background queue for each handshake, so that `accord peer add` and `remove` take effect
    /// for the next connection.
    /// - Parameters:
    ///   - certificates: the chain the client presented, leaf first.
    ///   - trusted: reads the journal's trusted keys (`keys/*.pub`).
    /// - Returns: `.certificateVerified` or `.failed`: a client refused here gets a TLS alert
    ///   and never reaches HTTP.
    public static func verifyClient(_ certificates: [NIOSSLCertificate], trusted: () throws -> [SiteID: SitePublicKey], committed: () throws -> [SiteID: String] = { [:] }) -> NIOSSLVerificationResult {
        guard let leaf = certificates.first, let keys = try? trusted() else { return .failed }
        if site(of: leaf, trusted: keys) != nil { return .certificateVerified }
        guard let digests = try? committed(), certificate(leaf, carriesKeyWithDigestIn: Set(digests.values)) else { return .failed }
        return .certificateVerified
    }

    /// ``verifyClient(_:trusted:)`` in the shape of a custom verification callback, with the
    /// trusted keys read off the event loop.
    /// - Parameter trusted: reads the journal's trusted keys.
    /// - Returns: a callback for `NIOSSLServerHandler` or Hummingbird's `TLSChannelConfiguration`.
    public static func clientVerifier(trusted: @escaping @Sendable () throws -> [SiteID: SitePublicKey], committed: @escaping @Sendable () throws -> [SiteID: String] = { [:] }) -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void {
        { certificates, promise in
            verificationQueue.async { promise.succeed(verifyClient(certificates, trusted: trusted, committed: committed)) }
        }
    }

    private static let verificationQueue = DispatchQueue(label: "accord.tls.verify")

    /// The client's check of the server, on a connection whose TLS handshake is done: the
    /// server's leaf certificate must carry `expected`, the key trusted for the peer being
    /// synced with. On a mismatch the connection is closed before any request is written.
    /// AsyncHTTPClient calls it through `HTTPClient.Configuration.http1_1ConnectionDebugInitializer`
    /// (and the HTTP/2 one), which it runs on each new connection after the handshake and
    /// before handing the connection to a request; a failure fails the request.
    /// - Parameters:
    ///   - channel: the connection, with NIOSSL's handler in its pipeline.
    ///   - expected: the key trusted for the server's site.
    /// - Returns: a future that succeeds when the key is the expected one.
    /// - Throws: (in the future) ``AccordError`` `.untrusted` when the server presented another
    ///   key, or none.
    public static func checkServer(on channel: any Channel, expected: SitePublicKey) -> EventLoopFuture<Void> {
        checkServer(on: channel, acceptable: [expected])
    }

    /// ``checkServer(on:expected:)`` for a server that may be any of several peers: its leaf
    /// certificate must carry one of `acceptable` (used when no peer record names the URL being
    /// synced with; the signed answers then bind the exchange to one site, SyncProtocol.md §4.4.2).
    /// - Parameters:
    ///   - channel: the connection, with NIOSSL's handler in its pipeline.
    ///   - acceptable: the keys a server may present.
    ///   - committed: the digests of those peers' committed next keys (Trust.md "Transport").
    /// - Returns: a future that succeeds when the key is one of them.
    public static func checkServer(on channel: any Channel, acceptable: [SitePublicKey], committed: Set<String> = []) -> EventLoopFuture<Void> {
        channel.nioSSL_peerCertificate().flatMapThrowing { certificate -> Void in
            guard let certificate, acceptable.contains(where: { SiteTLS.certificate(certificate, carries: $0) })
                    || SiteTLS.certificate(certificate, carriesKeyWithDigestIn: committed) else {
                throw AccordError(.untrusted, "The server's TLS certificate is not for the key this journal trusts for that peer; nothing was sent. Check the peer's URL and its key in keys/ ('accord peer add').", field: "tls")
            }
        }.flatMapError { error in
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// The key a TLS peer authenticated with on `channel` (the key of its leaf certificate,
    /// which the server's verification already matched to a trusted site), or nil on a plain
    /// connection.
    /// - Parameter channel: a server connection.
    /// - Returns: the certificate, for ``certificate(_:carries:)`` and ``site(of:trusted:)``.
    public static func peerCertificate(of channel: any Channel) async -> NIOSSLCertificate? {
        try? await channel.nioSSL_peerCertificate().get()
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`), where plain
    /// `http://` is allowed without a warning (SyncProtocol.md §4.4.4).
    /// - Parameter host: the host of a peer URL, as written (IPv6 in brackets or not).
    public static func isLoopback(host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }
}
