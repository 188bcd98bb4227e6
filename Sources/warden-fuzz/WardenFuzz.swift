// The fuzz target for the parsers Warden owns (see Fuzz/README.md).
//
// Built normally, `warden-fuzz PATH...` replays every file under the given paths through the target: the
// test script runs it over Fuzz/corpus as a regression suite. Built with `-sanitize=fuzzer
// -DWARDEN_LIBFUZZER` (scripts/fuzz.sh), it hands its arguments to libFuzzer, which drives the same
// entry point.
import Foundation
import NIOCore
import WardenCrypto
@_spi(Benchmarks) import WardenRedis

/// Every parser Warden owns, on one input.
func fuzz(_ input: [UInt8]) {
    FuzzEntry.run(input)
    fuzzRESP(input)
    DeliveryFuzzEntry.run(input)
    fuzzWebAuthn(input)
}

/// The RESP decoder: whatever it accepts, it accepts the same way whether the bytes arrive at once, in
/// two pieces or one byte at a time (one parser per stream, which keeps its place between pieces).
func fuzzRESP(_ input: [UInt8]) {
    let whole = respValues(input, pieces: [input.count])
    let halves = respValues(input, pieces: [input.count / 2, input.count - input.count / 2])
    let bytes = respValues(input, pieces: Array(repeating: 1, count: input.count))
    for other in [halves, bytes] {
        precondition(whole.count <= other.count, "RESP parsing depends on how the bytes arrive")
        // Compared through their descriptions: NaN is not equal to itself.
        precondition(
            Array(other.prefix(whole.count)).elementsEqual(whole) { String(reflecting: $0) == String(reflecting: $1) },
            "RESP values differ by chunking")
    }
    // Arrays left unparsed: accepted exactly when parsed, however the bytes arrive, each one's bytes
    // parsing to the value parsed directly; and read as a session check reply without a crash.
    for pieces in [[input.count], Array(repeating: 1, count: input.count)] {
        let unparsed = respValues(input, pieces: pieces, unparsedArrays: true)
        precondition(unparsed.count == whole.count, "RESP accepts other input when arrays are left unparsed")
        for (value, parsed) in zip(unparsed, whole) {
            guard case .frame(var bytes) = value else {
                precondition(String(reflecting: value) == String(reflecting: parsed), "RESP values differ when arrays are left unparsed")
                continue
            }
            var parser = RESPParser()
            let again = try? parser.parse(&bytes)
            precondition(again.map { String(reflecting: $0) } == String(reflecting: parsed), "an unparsed array's bytes parse to another value")
        }
    }
    _ = try? RedisSessionStore.checkReply(ByteBuffer(bytes: input), sessionHash: "")
}

/// The values one parser returns when `input` arrives in pieces of the given sizes, up to its first error.
func respValues(_ input: [UInt8], pieces: [Int], unparsedArrays: Bool = false) -> [RESPValue] {
    var parser = RESPParser()
    var buffer = ByteBuffer()
    var values: [RESPValue] = []
    var offset = 0
    for size in pieces {
        buffer.writeBytes(input[offset..<(offset + size)])
        offset += size
        do {
            while let value = try parser.parse(&buffer, unparsedArrays: unparsedArrays) { values.append(value) }
        } catch {
            return values
        }
    }
    return values
}

#if WARDEN_LIBFUZZER
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// libFuzzer's entry point for programs that keep their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> CInt
#endif

@main
enum WardenFuzz {
    static func main() throws {
        #if WARDEN_LIBFUZZER
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                fuzz(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                return 0
            })
        #else
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in files(under: path) {
                fuzz(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("replayed \(count) inputs")
        #endif
    }

    static func files(under path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var nested: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &nested) && !nested.boolValue
        }
    }
}
