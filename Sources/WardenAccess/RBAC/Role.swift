public import Foundation

/// A named set of permissions, optionally inheriting every permission of a parent role.
public struct Role: Sendable, Hashable, Codable {
    public let name: String
    public let summary: String
    public let parent: String?
    /// Permissions granted directly (not inherited).
    public let permissions: Set<Permission>

    public init(name: String, summary: String, parent: String? = nil, permissions: Set<Permission>) {
        self.name = name
        self.summary = summary
        self.parent = parent
        self.permissions = permissions
    }
}

/// A role granted to an account, until `expires` if set.
public struct Grant: Sendable, Hashable {
    public let accountID: UUID
    public let role: String
    public let granted: Date
    public let expires: Date?
    /// Who granted it (an audit actor string).
    public let grantedBy: String

    public init(accountID: UUID, role: String, granted: Date, expires: Date?, grantedBy: String) {
        self.accountID = accountID
        self.role = role
        self.granted = granted
        self.expires = expires
        self.grantedBy = grantedBy
    }

    /// Whether the grant is in force at `time`.
    public func isActive(at time: Date) -> Bool {
        expires.map { time < $0 } ?? true
    }
}

/// All roles, with inheritance resolved.
public struct RoleSet: Sendable {
    public let roles: [String: Role]

    public init(_ roles: [Role]) {
        self.roles = Dictionary(roles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The role's own permissions and those of its ancestors. A parent cycle or a missing parent ends the
    /// walk (it cannot widen anything).
    public func effectivePermissions(of name: String) -> Set<Permission> {
        var permissions = Set<Permission>()
        var seen = Set<String>()
        var current: String? = name
        while let next = current, !seen.contains(next), let role = roles[next] {
            seen.insert(next)
            permissions.formUnion(role.permissions)
            current = role.parent
        }
        return permissions
    }

    /// The roles `name` inherits from, nearest first.
    public func ancestors(of name: String) -> [String] {
        var chain: [String] = []
        var seen: Set<String> = [name]
        var current = roles[name]?.parent
        while let next = current, !seen.contains(next) {
            chain.append(next)
            seen.insert(next)
            current = roles[next]?.parent
        }
        return chain
    }
}
