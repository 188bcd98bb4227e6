/// The default roles and permissions every Warden database starts with.
///
/// The first 13 roles and 22 permissions cover the original system's RBAC (its documentation lists the
/// roles, parents and permission counts; the grants below reproduce those counts exactly: 40 direct
/// grants, effective sets of 3, 4, 7, 7, 7, 14, 18 and 22 permissions, and so on — see docs/access.md).
/// Warden's own roles follow: key management, field encryption as a service, session administration,
/// audit reading and account administration.
public enum RoleCatalog {
    /// The original system's 22 permissions.
    public static let legacyPermissions: [String] = [
        "digital_twin:read", "digital_twin:write", "digital_twin:delete", "digital_twin:admin",
        "evolution_metrics:read", "evolution_metrics:write", "evolution_metrics:admin",
        "rag_pipeline:query", "rag_pipeline:write", "rag_pipeline:admin",
        "p2p_network:connect", "p2p_network:admin",
        "system:admin", "system:monitoring", "system:backup",
        "compliance:view", "compliance:manage", "compliance:audit",
        "user:read", "user:write", "user:delete", "user:admin",
    ]

    /// Warden's own permissions.
    public static let wardenPermissions: [String] = [
        "keys:read", "keys:manage",
        "crypto:encrypt", "crypto:decrypt", "crypto:rewrap",
        "sessions:read", "sessions:revoke",
        "audit:read",
        "accounts:read", "accounts:manage",
        "roles:read", "roles:manage",
    ]

    public static let defaults: [Role] = [
        role("guest", "No permissions; the starting point of the hierarchy", parent: nil, []),
        role(
            "user", "A signed-in user of the platform", parent: "guest",
            ["digital_twin:read", "digital_twin:write", "rag_pipeline:query"]),
        role("student", "A learner", parent: "user", ["evolution_metrics:read"]),
        role(
            "educator", "A teacher who follows learners' progress", parent: "user",
            ["evolution_metrics:read", "evolution_metrics:write", "rag_pipeline:write", "user:read"]),
        role(
            "researcher", "Works with metrics and the knowledge pipeline", parent: "user",
            ["evolution_metrics:read", "evolution_metrics:write", "rag_pipeline:write", "p2p_network:connect"]),
        role(
            "moderator", "Moderates users and content", parent: "user",
            ["user:read", "user:write", "digital_twin:delete", "compliance:view"]),
        role(
            "operator", "Runs the platform", parent: "moderator",
            [
                "system:monitoring", "system:backup", "p2p_network:connect", "p2p_network:admin",
                "evolution_metrics:read", "evolution_metrics:write", "rag_pipeline:write",
            ]),
        role(
            "admin", "Administers the platform", parent: "operator",
            ["digital_twin:admin", "rag_pipeline:admin", "evolution_metrics:admin", "user:delete"]),
        role("super_admin", "Every permission", parent: "admin", ["*"]),
        role(
            "compliance_officer", "Reviews and manages compliance", parent: "user",
            ["compliance:view", "compliance:manage", "compliance:audit", "user:read", "digital_twin:read"]),
        role(
            "data_protection_officer", "Acts on data-protection requests", parent: "compliance_officer",
            ["system:admin", "digital_twin:delete", "user:delete"]),
        role(
            "service_account", "A machine client of the platform", parent: nil,
            ["digital_twin:read", "rag_pipeline:query", "p2p_network:connect", "system:monitoring"]),
        role("api_client", "An API consumer acting for a user", parent: "user", ["rag_pipeline:query"]),
        // Warden's own.
        role("key_admin", "Manages the keyring: status, rotation, retirement", parent: nil, ["keys:*"]),
        role("crypto_client", "Uses field encryption as a service", parent: nil, ["crypto:*", "keys:read"]),
        role("session_admin", "Lists and revokes any account's sessions", parent: nil, ["sessions:*"]),
        role("auditor", "Reads the audit log and the keyring status", parent: nil, ["audit:read", "keys:read", "roles:read"]),
        role(
            "account_admin", "Creates, changes and disables accounts and grants roles", parent: nil,
            ["accounts:*", "roles:*", "user:admin"]),
        role(
            "security_admin", "Everything security: keys, sessions, audit, accounts (not decryption)", parent: "account_admin",
            ["keys:*", "sessions:*", "audit:read", "crypto:rewrap"]),
    ]

    private static func role(_ name: String, _ summary: String, parent: String?, _ permissions: [String]) -> Role {
        // Force-unwrap: the catalog's permission strings are fixed and tested.
        Role(name: name, summary: summary, parent: parent, permissions: Set(permissions.map { Permission($0)! }))
    }
}
