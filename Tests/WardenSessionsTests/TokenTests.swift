import Crypto
import Foundation
import Testing
import WardenCore
import WardenCrypto
import WardenSessions
import WardenTestSupport

/// EdDSA tokens: issue, verify, every attack refused, keys rotated with overlap, and PyJWT agreeing.
struct TokenTests {
    @Test func issuedTokensVerifyWithEveryClaim() async throws {
        let fixture = try await TokenFixture.make()
        let account = UUID()
        let token = try await fixture.tokens.issue(.access, accountID: account, sessionID: "sid-1", tokenID: "jti-1", level: .multiFactor, now: fixture.clock.now())
        let claims = try await fixture.tokens.verify(token, as: .access)
        #expect(claims.sub == account.uuidString.lowercased())
        #expect(claims.sid == "sid-1" && claims.jti == "jti-1" && claims.acr == "mfa")
        #expect(claims.iss == "warden" && claims.aud == "warden")
        #expect(claims.exp - claims.iat == 15 * 60)
        let (header, _, _) = ForgedToken.parts(token)
        #expect(header["alg"] as? String == "EdDSA")
        #expect(header["kid"] as? String == (await fixture.keys.signingKID))
    }

    @Test func aTokenOfOneKindIsNotAnother() async throws {
        let fixture = try await TokenFixture.make()
        let refresh = try await fixture.issue(.refresh)
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(refresh, as: .access) }
        let access = try await fixture.issue(.access)
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(access, as: .refresh) }
    }

    @Test func timeClaimsHaveAtMostSixtySecondsOfLeeway() async throws {
        let fixture = try await TokenFixture.make()
        let token = try await fixture.issue()
        fixture.clock.advance(by: 15 * 60 + 59)
        _ = try await fixture.tokens.verify(token, as: .access)
        fixture.clock.advance(by: 2)
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(token, as: .access) }
        // Issued in the future (a clock far ahead, or a forged iat): refused beyond 60 s.
        let early = try await fixture.issue()
        fixture.clock.advance(by: -(15 * 60 + 61) - 61)
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(early, as: .access) }
    }

    @Test func forgedAndMangledTokensAreRefused() async throws {
        let fixture = try await TokenFixture.make()
        let token = try await fixture.issue()
        let (header, payload, signature) = ForgedToken.parts(token)
        let kid = header["kid"] as! String
        let jwks = try JSONSerialization.jsonObject(with: await fixture.keys.jwks()) as! [String: Any]
        let publicX = ((jwks["keys"] as! [[String: Any]]).first { $0["kid"] as? String == kid }!["x"] as! String)

        var attacks: [String: String] = [:]
        // alg: none, unsigned.
        attacks["alg none"] = ForgedToken.segment(["alg": "none", "kid": kid]) + "." + ForgedToken.segment(payload) + "."
        attacks["alg none with signature"] = ForgedToken.segment(["alg": "none", "kid": kid]) + "." + ForgedToken.segment(payload) + "." + signature
        // HS256 "signed" with the public key as the HMAC secret (algorithm confusion).
        let signingInput = ForgedToken.segment(["alg": "HS256", "kid": kid, "typ": "JWT"]) + "." + ForgedToken.segment(payload)
        let hmac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(publicX.utf8)))
        attacks["HS256 with the public key"] = signingInput + "." + Base64.encode(Array(hmac), alphabet: .url, padded: false)
        // A key of the attacker's, named by an unknown kid or embedded in the header.
        let attacker = Curve25519.Signing.PrivateKey()
        func signed(_ header: [String: Any], _ payload: [String: Any]) -> String {
            let input = ForgedToken.segment(header) + "." + ForgedToken.segment(payload)
            return input + "." + Base64.encode(Array(try! attacker.signature(for: Array(input.utf8))), alphabet: .url, padded: false)
        }
        attacks["unknown kid"] = signed(["alg": "EdDSA", "kid": "not-a-warden-key"], payload)
        attacks["no kid"] = signed(["alg": "EdDSA"], payload)
        attacks["attacker key under our kid"] = signed(["alg": "EdDSA", "kid": kid], payload)
        attacks["embedded jwk"] = signed(
            ["alg": "EdDSA", "kid": kid, "jwk": ["kty": "OKP", "crv": "Ed25519", "x": Base64.encode(Array(attacker.publicKey.rawRepresentation), alphabet: .url, padded: false)]], payload)
        attacks["jku"] = signed(["alg": "EdDSA", "kid": kid, "jku": "https://attacker.example/jwks.json"], payload)
        attacks["crit"] = signed(["alg": "EdDSA", "kid": kid, "crit": ["exp"]], payload)
        // Edited claims under the original signature.
        for (claim, value) in [("sub", UUID().uuidString.lowercased()), ("aud", "other-service"), ("iss", "someone-else"), ("token_use", "refresh")] as [(String, Any)] {
            var edited = payload
            edited[claim] = value
            attacks["edited \(claim)"] = ForgedToken.segment(header) + "." + ForgedToken.segment(edited) + "." + signature
        }
        var longer = payload
        longer["exp"] = (payload["exp"] as! Int) + 86_400
        attacks["extended exp"] = ForgedToken.segment(header) + "." + ForgedToken.segment(longer) + "." + signature
        // Encoding games.
        let pieces = token.split(separator: ".").map(String.init)
        attacks["padded segment"] = pieces[0] + "=." + pieces[1] + "." + pieces[2]
        attacks["standard base64 signature"] =
            pieces[0] + "." + pieces[1] + "." + pieces[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            + (pieces[2].contains("-") || pieces[2].contains("_") ? "" : "+")
        attacks["extra segment"] = token + ".e30"
        attacks["two segments"] = pieces[0] + "." + pieces[1]
        attacks["whitespace"] = " " + token
        attacks["truncated signature"] = String(token.dropLast(4))
        attacks["oversize"] = pieces[0] + "." + String(repeating: "A", count: 5000) + "." + pieces[2]
        attacks["empty"] = ""

        for (name, forged) in attacks {
            await #expect(throws: SessionError.invalidToken, "\(name)") { try await fixture.tokens.verify(forged, as: .access) }
        }
        // The untouched token still verifies: the attacks fail for their own reasons.
        _ = try await fixture.tokens.verify(token, as: .access)
    }

    @Test func rotationKeepsOldTokensValidForTheOverlap() async throws {
        var policy = SessionPolicy()
        policy.refreshTokenLifetime = 86_400
        let fixture = try await TokenFixture.make(policy: policy)
        let old = try await fixture.issue(.refresh)
        let oldKID = await fixture.keys.signingKID
        try await fixture.keys.rotate()
        let newKID = await fixture.keys.signingKID
        #expect(oldKID != newKID)
        let new = try await fixture.issue(.refresh)
        _ = try await fixture.tokens.verify(old, as: .refresh)
        _ = try await fixture.tokens.verify(new, as: .refresh)
        let jwks = try JSONSerialization.jsonObject(with: await fixture.keys.jwks()) as! [String: [[String: String]]]
        #expect(Set(jwks["keys"]!.map { $0["kid"]! }) == Set([oldKID!, newKID!]))
        // After the overlap the old key is gone (and its tokens have expired anyway).
        fixture.clock.advance(by: 86_400 + 1)
        try await fixture.keys.refresh()
        let after = try JSONSerialization.jsonObject(with: await fixture.keys.jwks()) as! [String: [[String: String]]]
        #expect(!after["keys"]!.contains { $0["kid"] == oldKID })
    }

    @Test func theVerifiedTokenCacheNeverOutlivesItsKeyOrMatchesAnEditedToken() async throws {
        var policy = SessionPolicy()
        policy.accessTokenLifetime = 3 * 86_400  // outlives the key's overlap, to prove the cache checks the key
        policy.refreshTokenLifetime = 86_400
        let fixture = try await TokenFixture.make(policy: policy)
        let token = try await fixture.issue(.access)
        _ = try await fixture.tokens.verify(token, as: .access)  // now remembered
        _ = try await fixture.tokens.verify(token, as: .access)
        // An edited copy is a different string: no cache hit, and its signature fails.
        var edited = Array(token.utf8)
        edited[edited.count - 2] = edited[edited.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(String(decoding: edited, as: UTF8.self), as: .access) }
        // Claims are still checked on a hit.
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(token, as: .refresh) }
        // Once its key is gone, the remembered token is refused.
        try await fixture.keys.rotate()
        fixture.clock.advance(by: 86_400 + 1)
        try await fixture.keys.refresh()
        await #expect(throws: SessionError.invalidToken) { try await fixture.tokens.verify(token, as: .access) }
    }

    @Test func nodesRotatingAtOnceMakeOneKeyAndSeeEachOther() async throws {
        let store = MemorySigningKeyStore()
        let clock = ManualWallClock(Date())
        let keyring = MemoryKeyringStore()
        let a = try await TokenFixture.make(keyStore: store, keyring: keyring, clock: clock)
        let b = try await TokenFixture.make(keyStore: store, keyring: keyring, clock: clock)
        #expect(await a.keys.signingKID == b.keys.signingKID)
        clock.advance(by: 31 * 86_400)
        async let ra: Void = a.keys.refresh()
        async let rb: Void = b.keys.refresh()
        _ = try await (ra, rb)
        try await a.keys.refresh()
        try await b.keys.refresh()
        #expect(await a.keys.signingKID == b.keys.signingKID)
        #expect(await store.signingKeys().filter { $0.retired == nil }.count == 1)
        // A token signed by one node verifies on the other.
        let token = try await a.issue()
        _ = try await b.tokens.verify(token, as: .access)
    }

    @Test func signingKeysAreStoredSealed() async throws {
        let fixture = try await TokenFixture.make()
        let record = try #require(await fixture.keyStore.signingKeys().first)
        #expect(record.sealedPrivateKey.hasPrefix("wd1:"))
        #expect(throws: (any Error).self) { try fixture.cipher.open(record.sealedPrivateKey, context: "signing-keys/another") }
    }

    @Test func pyJWTVerifiesOurTokensWithTheJWKS() async throws {
        let fixture = try await TokenFixture.make()
        let account = UUID()
        let token = try await fixture.tokens.issue(.access, accountID: account, sessionID: "s", tokenID: "j", level: .password, now: Date())
        let script = """
            import json, sys, jwt
            jwks = json.loads(sys.argv[1])
            token = sys.argv[2]
            kid = jwt.get_unverified_header(token)["kid"]
            key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
            claims = jwt.decode(token, key, algorithms=["EdDSA"], audience="warden", issuer="warden")
            print(claims["sub"])
            for audience, issuer in (("other", "warden"), ("warden", "other")):
                try:
                    jwt.decode(token, key, algorithms=["EdDSA"], audience=audience, issuer=issuer)
                    print("accepted wrong claims")
                except jwt.InvalidTokenError:
                    pass
            """
        let jwks = String(decoding: await fixture.keys.jwks(), as: UTF8.self)
        let (status, output, errors) = try await runProcess("/usr/bin/env", ["python3", "-c", script, jwks, token])
        #expect(status == 0, "\(String(decoding: errors, as: UTF8.self))")
        #expect(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == account.uuidString.lowercased())
    }

    struct Ed25519Case: Decodable, CustomTestStringConvertible {
        let tcId: Int, msg: String, sig: String, result: String
        var testDescription: String { "tcId \(tcId)" }
    }
    struct Ed25519Group: Decodable {
        struct PublicKey: Decodable { let pk: String }
        let publicKey: PublicKey
        let tests: [Ed25519Case]
    }
    struct Ed25519File: Decodable { let testGroups: [Ed25519Group] }

    /// Wycheproof Ed25519: the signature primitive behind the tokens accepts exactly the valid signatures.
    @Test func wycheproofEd25519() throws {
        let path = (ProcessInfo.processInfo.environment["WARDEN_VECTORS_DIR"] ?? "../shared/vectors") + "/wycheproof/ed25519_test.json"
        let file = try JSONDecoder().decode(Ed25519File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        var checked = 0
        for group in file.testGroups {
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: hex(group.publicKey.pk))
            for test in group.tests {
                let valid = key.isValidSignature(hex(test.sig), for: hex(test.msg))
                #expect(valid == (test.result == "valid"), "tcId \(test.tcId)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
