import Foundation
import Hummingbird
import NIOCore
import WardenAuth
import WardenCore
import WardenCrypto

/// One field-encryption item: the context and the value (`plaintext` in base64, or `ciphertext`).
struct CryptoItem: Decodable {
    let context: String?
    let plaintext: String?
    let ciphertext: String?

    init(context: String?, plaintext: String?, ciphertext: String?) {
        self.context = context
        self.plaintext = plaintext
        self.ciphertext = ciphertext
    }

    /// From a parsed body: each field a string, null or absent (other members are ignored, as
    /// `JSONDecoder` ignores them); `path` names the item in errors.
    init(_ tree: JSONShape.Tree, path: String) throws {
        guard case .object = tree else { throw APIError.badRequest("`\(path)` has the wrong type") }
        func text(_ key: String) throws -> String? {
            switch tree[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw APIError.badRequest("`\(path.isEmpty ? key : path + "." + key)` has the wrong type")
            }
        }
        self.init(context: try text("context"), plaintext: try text("plaintext"), ciphertext: try text("ciphertext"))
    }
}

/// One item's result, written as JSON without going through `[String: Any]` (a batch writes a hundred).
struct CryptoOutcome {
    var ciphertext: String?
    var plaintext: String?
    var source: String?
    var needsRewrap: Bool?
    var keyVersion: Int?

    func write(into buffer: inout ByteBuffer) {
        var first = true
        func key(_ name: StaticString) {
            buffer.writeString(first ? "{\"" : ",\"")
            buffer.writeStaticString(name)
            buffer.writeString("\":")
            first = false
        }
        if let ciphertext {
            key("ciphertext")
            JSONWriter.writeString(ciphertext, into: &buffer)
        }
        if let plaintext {
            key("plaintext")
            JSONWriter.writeString(plaintext, into: &buffer)
        }
        if let source {
            key("source")
            JSONWriter.writeString(source, into: &buffer)
        }
        if let needsRewrap {
            key("needs_rewrap")
            buffer.writeString(needsRewrap ? "true" : "false")
        }
        if let keyVersion {
            key("key_version")
            buffer.writeString(String(keyVersion))
        }
        buffer.writeString(first ? "{}" : "}")
    }
}

/// One item (its fields at the top level) or `items`.
struct CryptoBody: Decodable {
    let context: String?
    let plaintext: String?
    let ciphertext: String?
    let items: [CryptoItem]?

    var single: CryptoItem { CryptoItem(context: context, plaintext: plaintext, ciphertext: ciphertext) }

    /// From a parsed body, with `JSONDecoder`'s rules: fields string or null, `items` an array of objects.
    init(_ tree: JSONShape.Tree) throws {
        let top = try CryptoItem(tree, path: "")
        context = top.context
        plaintext = top.plaintext
        ciphertext = top.ciphertext
        switch tree["items"] {
        case nil, .null?:
            items = nil
        case .array(let elements)?:
            items = try elements.enumerated().map { try CryptoItem($1, path: "items.\($0)") }
        default:
            throw APIError.badRequest("`items` has the wrong type")
        }
    }
}

extension WardenAPI {
    func addCryptoRoutes(_ router: Router<WardenContext>) {
        on(router, .post, "/v1/crypto/encrypt") { request, context in
            try await batch(request, context, value: \.plaintext, named: "plaintext") { items, principal in
                try await Self.perItem(items, read: { (try Self.base64($0.plaintext, "plaintext"), try Self.context($0)) }, placeholder: ([], "-")) {
                    try await services.security.encrypt($0, principal)
                } output: { envelope in
                    CryptoOutcome(ciphertext: envelope.text, keyVersion: Int(envelope.keyVersion))
                }
            }
        }
        on(router, .post, "/v1/crypto/decrypt") { request, context in
            try await batch(request, context, value: \.ciphertext, named: "ciphertext") { items, principal in
                try await Self.perItem(items, read: { (try Self.text($0.ciphertext, "ciphertext"), try Self.context($0)) }, placeholder: ("", "-")) {
                    try await services.security.decrypt($0, principal)
                } output: { opened in
                    CryptoOutcome(
                        plaintext: Base64.encode(Array(opened.plaintext)), source: opened.source.format, needsRewrap: opened.needsRewrap,
                        keyVersion: opened.source.keyVersion.map { Int($0) })
                }
            }
        }
        on(router, .post, "/v1/crypto/rewrap") { request, context in
            try await batch(request, context, value: \.ciphertext, named: "ciphertext") { items, principal in
                try await Self.perItem(items, read: { (try Self.text($0.ciphertext, "ciphertext"), try Self.context($0)) }, placeholder: ("", "-")) {
                    try await services.security.rewrap($0, principal)
                } output: { envelope in
                    CryptoOutcome(ciphertext: envelope.text, keyVersion: Int(envelope.keyVersion))
                }
            }
        }
        on(router, .get, "/v1/keys") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            return JSONResponse.make(.ok, keyring(try await services.security.keyring(principal)))
        }
        on(router, .post, "/v1/keys/rotate") { request, context in
            var context = context
            let principal = try await authenticate(request, &context)
            return JSONResponse.make(.ok, keyring(try await services.security.rotateKeys(principal)))
        }
    }

    func keyring(_ keyring: Keyring) -> [String: Any] {
        let now = services.clock.now()
        let period = services.cipher.configuration.policy.rotationPeriod
        return [
            "algorithm": "AES-256-GCM", "primary_version": Int(keyring.primaryVersion), "minimum_decryption_version": Int(keyring.minimumDecryptionVersion),
            "primary_age_seconds": Int(now.timeIntervalSince(keyring.primary.created)),
            "next_rotation": JSONResponse.timestamp(keyring.primary.created.addingTimeInterval(period)),
            "versions": keyring.versions.map {
                ["version": Int($0.version), "state": $0.state.rawValue, "created_at": JSONResponse.timestamp($0.created), "seal_count": Int($0.sealCount)] as [String: Any]
            },
        ]
    }

    /// One item (fields at the top level) or `items`: up to `maxBatch` of them. In a batch each item
    /// succeeds or carries its own error; a single item's error is the response's.
    private func batch(
        _ request: Request, _ context: WardenContext, value: KeyPath<CryptoItem, String?>, named name: String,
        _ operation: @Sendable ([CryptoItem], Principal) async throws -> [Result<CryptoOutcome, any Error>]
    ) async throws -> Response {
        var context = context
        let principal = try await authenticate(request, &context)
        let body = try CryptoBody(try await JSONBody.tree(request, limit: configuration.maxBodyBytes, maxDepth: configuration.maxJSONDepth))
        // The shape is checked before anything runs: a request the schema forbids is refused whole.
        if body.items != nil, body.context != nil || body.plaintext != nil || body.ciphertext != nil {
            throw APIError.badRequest("send one item (its fields at the top level) or `items`, not both")
        }
        let items = body.items ?? [body.single]
        guard items.count <= configuration.maxBatch else { throw APIError.badRequest("`items` must be an array of at most \(configuration.maxBatch) objects") }
        for item in items {
            guard let context = item.context, !context.isEmpty, context.utf8.count <= AccountSecurity.maxCallerContextBytes, item[keyPath: value] != nil else {
                throw APIError.badRequest(
                    (body.items == nil ? "" : "every item needs ") + "`context` (1–\(AccountSecurity.maxCallerContextBytes) bytes) and `\(name)`")
            }
        }
        var buffer = ByteBuffer()
        if body.items == nil {
            try await operation(items, principal)[0].get().write(into: &buffer)
        } else {
            let results = try await operation(items, principal)
            buffer.reserveCapacity(results.count * 420)
            buffer.writeString(#"{"items":["#)
            for (index, result) in results.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                switch result {
                case .success(let outcome):
                    outcome.write(into: &buffer)
                case .failure(let error):
                    let failure = APIError.from(error)
                    guard failure.status.code < 500 else { throw error }
                    JSONWriter.write(["error": ["code": failure.code, "message": failure.message]], into: &buffer)
                }
            }
            buffer.writeString("]}")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// Reads each item's input (an item that cannot be read fails alone, a placeholder standing in its
    /// place), runs the batch use case once (one permission check), and maps each result to its output.
    static func perItem<Input, Value>(
        _ items: [CryptoItem], read: (CryptoItem) throws -> Input, placeholder: Input,
        _ run: ([Input]) async throws -> [Result<Value, any Error>], output: (Value) -> CryptoOutcome
    ) async throws -> [Result<CryptoOutcome, any Error>] {
        var inputs: [Input] = []
        inputs.reserveCapacity(items.count)
        var invalid: [Int: any Error] = [:]
        for (index, item) in items.enumerated() {
            do {
                inputs.append(try read(item))
            } catch {
                invalid[index] = error
                inputs.append(placeholder)
            }
        }
        return try await run(inputs).enumerated().map { index, result in
            if let error = invalid[index] { return .failure(error) }
            return result.map(output)
        }
    }

    static func context(_ item: CryptoItem) throws -> String {
        guard let context = item.context, !context.isEmpty, context.utf8.count <= AccountSecurity.maxCallerContextBytes else {
            throw APIError.badRequest("`context` (the field the value belongs to, e.g. users/email/42) is required, at most \(AccountSecurity.maxCallerContextBytes) bytes")
        }
        return context
    }

    static func text(_ value: String?, _ key: String) throws -> String {
        guard let value, value.utf8.count <= 2 << 20 else { throw APIError.badRequest("`\(key)` must be a string") }
        return value
    }

    static func base64(_ value: String?, _ key: String) throws -> [UInt8] {
        guard let bytes = Base64.decode(try text(value, key), alphabet: .standard, padding: .required) else {
            throw APIError.badRequest("`\(key)` must be standard base64")
        }
        return bytes
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
