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
