/// A permission, `resource:action`. `resource:*` covers every action on a resource; `*` covers everything.
public struct Permission: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let resource: String
    public let action: String

    /// Everything.
    public static let all = Permission(resource: "*", action: "*")

    /// Parses `resource:action`, `resource:*` or `*`. Names are lowercase letters, digits and `_`.
    public init?(_ string: String) {
        if string == "*" {
            self = .all
            return
        }
        let parts = string.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isName(parts[0]), Self.isName(parts[1]) || parts[1] == "*" else { return nil }
        resource = String(parts[0])
        action = String(parts[1])
    }

    init(resource: String, action: String) {
        self.resource = resource
        self.action = action
    }

    /// Whether holding `self` grants `other`.
    public func covers(_ other: Permission) -> Bool {
        if self == .all { return true }
        return resource == other.resource && (action == "*" || action == other.action)
    }

    public var description: String { self == .all ? "*" : "\(resource):\(action)" }

    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let permission = Permission(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a permission"))
        }
        self = permission
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func isName(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" }
    }
}
