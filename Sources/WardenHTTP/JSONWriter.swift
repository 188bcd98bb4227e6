import Foundation
import NIOCore

/// Writes the JSON of the objects routes build (`[String: Any]` holding strings, integers, booleans,
/// doubles, `NSNull`, arrays and dictionaries) straight into a `ByteBuffer`.
///
/// Foundation's `JSONSerialization` bridges every value to an `NSObject` first; on Linux that was the
/// largest single cost of a session listing. Output is RFC 8259 JSON: strings escaped (`"`, `\`, control
/// characters; `/` and non-ASCII left as they are, in UTF-8), keys in dictionary order, non-finite
/// doubles written as `null`. A ``JSONWritable`` value (a listed session) writes itself. Values of other
/// types (numbers parsed by `JSONSerialization`, echoed from a request) are handed to `JSONSerialization`
/// as fragments.
enum JSONWriter {
    static func write(_ value: Any, into buffer: inout ByteBuffer) {
        // A number parsed by JSONSerialization (echoed from a request) would match `Int` below even when it
        // is a boolean; its own serialisation knows which it is. Checked by exact type: a cast (`is
        // NSNumber`) would also bridge every Swift number.
        if type(of: value) is NSNumber.Type {
            fragment(value, into: &buffer)
            return
        }
        switch value {
        case let text as String:
            writeString(text, into: &buffer)
        case let object as [String: Any]:
            buffer.writeInteger(UInt8(ascii: "{"))
            var first = true
            for (key, element) in object {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        case let array as [Any]:
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                write(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case let flag as Bool:
            buffer.writeString(flag ? "true" : "false")
        case let number as Int:
            buffer.writeString(String(number))
        case let number as Int64:
            buffer.writeString(String(number))
        case let number as UInt32:
            buffer.writeString(String(number))
        case let number as UInt64:
            buffer.writeString(String(number))
        case let number as Double:
            buffer.writeString(number.isFinite ? String(number) : "null")
        case is NSNull:
            buffer.writeString("null")
        case let optional as any OptionalValue:
            if let wrapped = optional.wrapped { write(wrapped, into: &buffer) } else { buffer.writeString("null") }
        case let writable as any JSONWritable:
            writable.writeJSON(into: &buffer)
        default:
            fragment(value, into: &buffer)
        }
    }

    static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        // Native strings are contiguous UTF-8: scan the bytes directly (most need no escaping at all).
        var text = text
        text.withUTF8 { bytes in
            buffer.writeInteger(UInt8(ascii: "\""))
            var pending = 0
            var index = JSONBytes.plainRun(bytes, from: 0)
            while index < bytes.count {
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[pending..<index]))
                writeEscape(bytes[index], into: &buffer)
                pending = index + 1
                index = JSONBytes.plainRun(bytes, from: pending)
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[pending..<bytes.count]))
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }

    private static func writeEscape(_ byte: UInt8, into buffer: inout ByteBuffer) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeString("\\\"")
        case UInt8(ascii: "\\"): buffer.writeString("\\\\")
        case 0x0A: buffer.writeString("\\n")
        case 0x0D: buffer.writeString("\\r")
        case 0x09: buffer.writeString("\\t")
        case 0x08: buffer.writeString("\\b")
        case 0x0C: buffer.writeString("\\f")
        default:
            buffer.writeString("\\u00")
            buffer.writeInteger(hexDigits[Int(byte >> 4)])
            buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func fragment(_ value: Any, into buffer: inout ByteBuffer) {
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]) {
            buffer.writeBytes(data)
        } else {
            buffer.writeString("null")
        }
    }
}

/// Lets the writer see through an `Optional` stored as `Any`.
private protocol OptionalValue {
    var wrapped: Any? { get }
}

extension Optional: OptionalValue {
    fileprivate var wrapped: Any? { self.map { $0 as Any } }
}

/// JSON written through one pointer into memory reserved beforehand (``SessionJSON``): a `ByteBuffer`
/// write checks its storage's uniqueness, its capacity and exclusive access each time, and a listed
/// session is some thirty writes. Every write here is still bounds-checked (a wrong reservation stops the
/// process rather than write past the memory).
struct JSONOutput {
    private let bytes: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
    }

    /// The most bytes ``string(_:)`` writes for `text`: its quotes and every byte escaped as `\u00XX`.
    static func bound(_ text: String) -> Int { 2 + 6 * text.utf8.count }

    mutating func raw(_ text: StaticString) {
        precondition(text.hasPointerRepresentation && count + text.utf8CodeUnitCount <= bytes.count)
        bytes.baseAddress!.advanced(by: count).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    mutating func byte(_ value: UInt8) {
        precondition(count < bytes.count)
        bytes[count] = value
        count += 1
    }

    /// `text` as a JSON string, escaped as ``JSONWriter/writeString(_:into:)`` escapes it.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            byte(UInt8(ascii: "\""))
            var pending = 0
            var index = JSONBytes.plainRun(utf8, from: 0)
            while index < utf8.count {
                copy(UnsafeBufferPointer(rebasing: utf8[pending..<index]))
                escape(utf8[index])
                pending = index + 1
                index = JSONBytes.plainRun(utf8, from: pending)
            }
            copy(UnsafeBufferPointer(rebasing: utf8[pending..<utf8.count]))
            byte(UInt8(ascii: "\""))
        }
    }

    /// `2026-11-29T08:24:52Z`, as ``JSONResponse/timestamp(_:)`` writes it (no quotes).
    mutating func timestamp(_ date: Date) {
        precondition(count + 20 <= bytes.count)
        count += JSONResponse.writeTimestamp(date, to: UnsafeMutableRawBufferPointer(rebasing: bytes[count..<count + 20]))
    }

    private mutating func copy(_ run: UnsafeBufferPointer<UInt8>) {
        guard let base = run.baseAddress, !run.isEmpty else { return }
        precondition(count + run.count <= bytes.count)
        bytes.baseAddress!.advanced(by: count).copyMemory(from: base, byteCount: run.count)
        count += run.count
    }

    private mutating func escape(_ value: UInt8) {
        switch value {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            raw("\\u00")
            byte(Self.hexDigits[Int(value >> 4)])
            byte(Self.hexDigits[Int(value & 0x0F)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
