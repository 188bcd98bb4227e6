import Foundation

extension FieldEnvelope {
    /// Seals `plaintext` under `key` with a fresh random nonce, binding the header and `context`.
    ///
    /// This is the primitive beneath ``FieldCipher/seal(_:context:)``; it does no size or context checks
    /// and keeps no seal count, so prefer the cipher.
    static func seal(
        _ plaintext: some DataProtocol, key: AESGCMContext, keyVersion: UInt32, context: some Collection<UInt8>,
        nonce: NoncePool.Nonce = .random()
    ) -> FieldEnvelope {
        let header = header(keyVersion: keyVersion)
        let associatedData = associatedData(header, context)
        var binary = Data(count: overhead + plaintext.count)
        let sealed = binary.withUnsafeMutableBytes { output -> Bool in
            header.withUnsafeBytes { output.copyMemory(from: $0) }
            let nonceBytes = UnsafeMutableRawBufferPointer(rebasing: output[headerSize..<(headerSize + nonceSize)])
            nonce.write(to: nonceBytes)
            let body = UnsafeMutableRawBufferPointer(rebasing: output[(headerSize + nonceSize)...])
            return withContiguousBytes(of: plaintext) { plaintext in
                associatedData.withUnsafeBytes { associatedData in
                    key.seal(plaintext: plaintext, nonce: UnsafeRawBufferPointer(nonceBytes), associatedData: associatedData, into: body)
                }
            }
        }
        // The sizes are computed above; BoringSSL refuses only inputs beyond 2^36 bytes, far past any limit.
        precondition(sealed, "AES-GCM seal failed")
        return FieldEnvelope(keyVersion: keyVersion, binary: binary)
    }

    /// Opens the envelope with `key`, or returns `nil` when authentication fails.
    func open(key: AESGCMContext, context: some Collection<UInt8>) -> Data? {
        let bodyOffset = Self.headerSize + Self.nonceSize
        var plaintext = Data(count: binary.count - Self.overhead)
        let opened = binary.withUnsafeBytes { input -> Bool in
            let associatedData = Self.associatedData(input[0..<Self.headerSize], context)
            return plaintext.withUnsafeMutableBytes { output in
                associatedData.withUnsafeBytes { associatedData in
                    key.open(
                        sealed: UnsafeRawBufferPointer(rebasing: input[bodyOffset...]),
                        nonce: UnsafeRawBufferPointer(rebasing: input[Self.headerSize..<bodyOffset]),
                        associatedData: associatedData, into: output)
                }
            }
        }
        return opened ? plaintext : nil
    }

    /// The associated data: the six header bytes, then the context's bytes. The header has a fixed length,
    /// so the concatenation is unambiguous.
    static func associatedData(_ header: some Collection<UInt8>, _ context: some Collection<UInt8>) -> [UInt8] {
        var data = [UInt8]()
        data.reserveCapacity(header.count + context.count)
        data.append(contentsOf: header)
        data.append(contentsOf: context)
        return data
    }
}

/// Calls `body` with the bytes of `data`, copying only when they are not contiguous.
func withContiguousBytes<R>(of data: some DataProtocol, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let data = data as? Data { return data.withUnsafeBytes(body) }
    if let array = data as? [UInt8] { return array.withUnsafeBytes(body) }
    if data.regions.count == 1, let region = data.regions.first {
        return region.withUnsafeBytes(body)
    }
    return Array(data).withUnsafeBytes(body)
}
