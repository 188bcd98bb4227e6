import Foundation

/// A fresh directory under the system's temporary directory, removed by ``remove()``.
struct TestDirectory: Sendable {
    let path: String

    init() throws {
        path = "\(NSTemporaryDirectory())/warden-delivery-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func subdirectory(_ name: String) throws -> String {
        let sub = "\(path)/\(name)"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
