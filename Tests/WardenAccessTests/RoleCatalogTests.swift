import Testing
import WardenAccess

/// The default roles reproduce the original system's RBAC exactly, and Warden's own roles exist.
struct RoleCatalogTests {
    let roles = RoleSet(RoleCatalog.defaults)

    /// From the original system's documentation: role, parent, direct and effective permission counts.
    static let original: [(String, String?, Int, Int)] = [
        ("guest", nil, 0, 0), ("user", "guest", 3, 3), ("student", "user", 1, 4), ("educator", "user", 4, 7),
        ("researcher", "user", 4, 7), ("moderator", "user", 4, 7), ("operator", "moderator", 7, 14), ("admin", "operator", 4, 18),
        ("compliance_officer", "user", 5, 7), ("data_protection_officer", "compliance_officer", 3, 10),
        ("service_account", nil, 4, 4), ("api_client", "user", 1, 3),
    ]

    @Test(arguments: 0..<original.count)
    func originalRoles(_ index: Int) {
        let (name, parent, direct, effective) = Self.original[index]
        let role = roles.roles[name]
        #expect(role?.parent == parent)
        #expect(role?.permissions.count == direct)
        #expect(roles.effectivePermissions(of: name).count == effective)
    }

    @Test func superAdminHoldsAllTwentyTwo() {
        let permissions = roles.effectivePermissions(of: "super_admin")
        for name in RoleCatalog.legacyPermissions {
            #expect(permissions.contains { $0.covers(Permission(name)!) }, "\(name)")
        }
        #expect(roles.roles["super_admin"]?.parent == "admin")
    }

    @Test func theOriginalHadFortyDirectGrantsAndTwentyTwoPermissions() {
        let legacyRoles = Set(Self.original.map(\.0) + ["super_admin"])
        #expect(legacyRoles.count == 13)
        #expect(RoleCatalog.legacyPermissions.count == 22)
        #expect(Set(RoleCatalog.legacyPermissions).count == 22)
        // super_admin's "all" is special-cased in the original and a single wildcard here.
        let direct = RoleCatalog.defaults.filter { legacyRoles.contains($0.name) && $0.name != "super_admin" }
            .reduce(0) { $0 + $1.permissions.count }
        #expect(direct == 40)
        let used = Set(RoleCatalog.defaults.filter { legacyRoles.contains($0.name) }.flatMap(\.permissions).map(\.description))
        #expect(used.subtracting(["*"]).isSubset(of: Set(RoleCatalog.legacyPermissions)))
    }

    @Test func wardenRolesCoverItsOwnPermissions() {
        let covered = ["key_admin", "crypto_client", "session_admin", "auditor", "account_admin", "security_admin"]
            .reduce(into: Set<Permission>()) { $0.formUnion(roles.effectivePermissions(of: $1)) }
        for name in RoleCatalog.wardenPermissions {
            #expect(covered.contains { $0.covers(Permission(name)!) }, "\(name)")
        }
        // Separation of duties: the security administrator cannot decrypt.
        #expect(!roles.effectivePermissions(of: "security_admin").contains { $0.covers(Permission("crypto:decrypt")!) })
    }

    @Test func permissionsParseStrictly() {
        #expect(Permission("keys:manage")?.description == "keys:manage")
        #expect(Permission("keys:*")!.covers(Permission("keys:read")!))
        #expect(!Permission("keys:*")!.covers(Permission("crypto:decrypt")!))
        #expect(Permission("*")!.covers(Permission("anything:here")!))
        #expect(!Permission("keys:read")!.covers(Permission("keys:*")!))
        for bad in ["", "keys", "keys:", ":read", "Keys:read", "keys:read:extra", "*:read", "keys: read", "ключи:read"] {
            #expect(Permission(bad) == nil, "\(bad)")
        }
    }

    @Test func inheritanceCyclesCannotLoopOrWiden() {
        let cyclic = RoleSet([
            Role(name: "a", summary: "", parent: "b", permissions: [Permission("x:read")!]),
            Role(name: "b", summary: "", parent: "a", permissions: [Permission("y:read")!]),
        ])
        #expect(cyclic.effectivePermissions(of: "a").count == 2)
        #expect(cyclic.ancestors(of: "a") == ["b"])
        #expect(cyclic.effectivePermissions(of: "missing").isEmpty)
    }
}
