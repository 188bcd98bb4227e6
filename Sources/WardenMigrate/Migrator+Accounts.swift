import Crypto
public import Foundation
import SQLKit
import WardenAccess
import WardenAudit
import WardenCore
import WardenCrypto
import WardenSQL

/// The original's `rbac.db` (original-databases.md §1), read-only.
struct RBACDatabase {
    struct User: Sendable {
        let rowID: Int64
        let userID: String
        let username: String
        let email: String?
        let passwordHash: String?
        let passwordSalt: String?
        let active: Bool
        let created: Date?
    }

    struct RoleGrant: Sendable {
        let userID: String
        let role: String
        let expires: Date?
        /// The expiry text as stored, for reports.
        let expiresText: String?
    }

    struct AccessEntry: Sendable {
        let id: Int64
        let time: Date?
        let timeText: String?
        let userID: String?
        let action: String
        let resource: String?
        let permission: String?
        let granted: Bool?
        let denialReason: String?
        let ipAddress: String?
        let userAgent: String?
        let sessionID: String?
    }

    let database: ApplicationDatabase

    static func open(_ path: String) async throws -> RBACDatabase {
        let database: ApplicationDatabase
        do {
            database = try await ApplicationDatabase.open(path, readOnly: true)
        } catch {
            throw MigrationError("cannot open the original's rbac.db at \(path): \(Migrator.describe(error))")
        }
        let columns = Set((try await database.columns(of: "users") ?? []).map(\.name))
        guard ["user_id", "username", "email", "password_hash", "password_salt", "is_active"].allSatisfy(columns.contains) else {
            await database.close()
            throw MigrationError("\(path) is not the original's rbac.db (no users table with user_id, username, password_hash, password_salt, is_active)")
        }
        return RBACDatabase(database: database)
    }

    func close() async { await database.close() }

    func users() async throws -> [User] {
        try await database.backend.withConnection { database in
            try await database.raw("SELECT id, user_id, username, email, password_hash, password_salt, is_active, created_at FROM users ORDER BY id").all().map { row in
                User(
                    rowID: try row.decode(column: "id", as: Int64.self),
                    userID: try row.decode(column: "user_id", as: String.self),
                    username: try row.decode(column: "username", as: String.self),
                    email: try row.decode(column: "email", as: String?.self),
                    passwordHash: try row.decode(column: "password_hash", as: String?.self),
                    passwordSalt: try row.decode(column: "password_salt", as: String?.self),
                    active: (try row.decode(column: "is_active", as: Int64?.self) ?? 1) != 0,
                    created: Self.time(try row.decode(column: "created_at", as: String?.self)))
            }
        }
    }

    func grants() async throws -> [RoleGrant] {
        guard try await database.columns(of: "user_roles") != nil else { return [] }
        return try await database.backend.withConnection { database in
            try await database.raw("SELECT user_id, role_name, expires_at FROM user_roles ORDER BY id").all().map { row in
                let text = try row.decode(column: "expires_at", as: String?.self)
                return RoleGrant(
                    userID: try row.decode(column: "user_id", as: String.self), role: try row.decode(column: "role_name", as: String.self),
                    expires: Self.time(text), expiresText: text)
            }
        }
    }

    func accessLog(after id: Int64, limit: Int) async throws -> [AccessEntry] {
        guard try await database.columns(of: "access_log") != nil else { return [] }
        return try await database.backend.withConnection { database in
            try await database.raw(
                """
                SELECT id, timestamp, user_id, action, resource, permission_required, access_granted, denial_reason, \
                ip_address, user_agent, session_id FROM access_log WHERE id > \(bind: id) ORDER BY id LIMIT \(literal: limit)
                """
            ).all().map { row in
                let text = try row.decode(column: "timestamp", as: String?.self)
                return AccessEntry(
                    id: try row.decode(column: "id", as: Int64.self), time: Self.time(text), timeText: text,
                    userID: try row.decode(column: "user_id", as: String?.self), action: try row.decode(column: "action", as: String.self),
                    resource: try row.decode(column: "resource", as: String?.self),
                    permission: try row.decode(column: "permission_required", as: String?.self),
                    granted: try row.decode(column: "access_granted", as: Int64?.self).map { $0 != 0 },
                    denialReason: try row.decode(column: "denial_reason", as: String?.self),
                    ipAddress: try row.decode(column: "ip_address", as: String?.self),
                    userAgent: try row.decode(column: "user_agent", as: String?.self),
                    sessionID: try row.decode(column: "session_id", as: String?.self))
            }
        }
    }

    func accessLogNewestID() async throws -> Int64 {
        guard try await database.columns(of: "access_log") != nil else { return 0 }
        return try await database.backend.withConnection { database in
            try await database.raw("SELECT COALESCE(MAX(id), 0) AS n FROM access_log").first()?.decode(column: "n", as: Int64.self) ?? 0
        }
    }

    func accessLogCount() async throws -> Int {
        guard try await database.columns(of: "access_log") != nil else { return 0 }
        return try await database.rowCount("access_log")
    }

    /// Parses the original's two naive-UTC timestamp shapes: `2025-08-29 19:52:11` (SQLite's
    /// `CURRENT_TIMESTAMP`) and `2025-09-01 10:00:00.123456` (Python's `str(datetime)`).
    static func time(_ text: String?) -> Date? {
        guard let text, text.utf8.count >= 19 else { return nil }
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes[4] == 45, bytes[7] == 45, bytes[10] == 32 || bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if bytes.count > 19 {
            guard bytes[19] == 46, bytes.count <= 26, let digits = number(20..<bytes.count) else { return nil }
            fraction = Double(digits) / pow(10, Double(bytes.count - 20))
        }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // Refuses 31 February and the like instead of rolling over into the next month.
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(fraction)
    }
}

extension Migrator {
    /// The Warden account id for the original's `user_id`: derived, so importing again finds the same
    /// account (a UUID of version 8 from SHA-256 of a fixed label and the id).
    public static func accountID(forOriginalUser userID: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(("warden-migrate/rbac/users/" + userID).utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The audit action of imported access-log entries.
    public static let importedAccessAction = "imported.access_check"

    struct AccountPlan {
        var user: RBACDatabase.User
        var hash: PasswordHash?
        var email: String?
        var roles: [(role: String, expires: Date?)]
    }

    /// Reads `rbac.db` and decides what each user becomes, counting into `report`.
    func planAccounts(_ rbac: RBACDatabase, report: inout MigrationReport.Accounts) async throws -> [AccountPlan] {
        let catalog = Set(try await services.access.roles().roles.keys)
        let users = try await rbac.users()
        var grants: [String: [RBACDatabase.RoleGrant]] = [:]
        for grant in try await rbac.grants() { grants[grant.userID, default: []].append(grant) }
        let now = Date()
        report.users = users.count
        report.rolelessPolicy = spec.roleless.description
        if case .grant(let role) = spec.roleless, !catalog.contains(role) {
            throw MigrationError("the role for users without one, '\(role)', is not in Warden's catalog (`warden roles list`)")
        }
        var plans: [AccountPlan] = []
        var seen: [String: String] = [:]
        for user in users {
            var plan = AccountPlan(user: user, hash: nil, email: nil, roles: [])
            if let hash = user.passwordHash, let salt = user.passwordSalt {
                plan.hash = PasswordHash.rbac(salt: salt, hexDigest: hash)
                if plan.hash == nil { report.failures.append(.init(key: user.userID, reason: "password hash not in the original's format; imported without a password")) }
            }
            if plan.hash == nil { report.withoutPassword += 1 }
            if !user.active { report.disabled += 1 }
            if let email = user.email, !email.isEmpty {
                if (try? Contact.validate(email: email, phone: nil)) != nil { plan.email = email } else { report.emailsNotImported += 1 }
            }
            if let (_, key) = try? Username.normalize(user.username) {
                if let other = seen[key] {
                    report.failures.append(.init(key: user.userID, reason: "its username is the same as user \(other)'s once case and width are folded"))
                    continue
                }
                seen[key] = user.userID
            } else {
                report.failures.append(.init(key: user.userID, reason: "its username is not acceptable to Warden"))
                continue
            }
            for grant in grants[user.userID] ?? [] {
                guard catalog.contains(grant.role) else {
                    report.unknownRolesSkipped += 1
                    continue
                }
                if grant.expiresText != nil, (grant.expires ?? .distantPast) <= now {
                    report.expiredGrantsSkipped += 1
                    continue
                }
                plan.roles.append((grant.role, grant.expires))
            }
            if plan.roles.isEmpty {
                report.roleless += 1
                if case .grant(let role) = spec.roleless { plan.roles.append((role, nil)) }
            }
            report.grants += plan.roles.count
            plans.append(plan)
        }
        return plans
    }

    /// Imports every planned account (idempotent: an account already imported is found by its derived
    /// id), its grants, then the access log (resuming after the last imported entry).
    func importAccounts(_ plans: [AccountPlan], rbac: RBACDatabase, report: inout MigrationReport.Accounts) async throws {
        let progress = ProgressMeter(label: "accounts", total: plans.count, quiet: quiet)
        for plan in plans {
            let id = Self.accountID(forOriginalUser: plan.user.userID)
            var account: Account
            if let existing = try await services.accounts.account(id: id) {
                account = existing
                report.alreadyImported += 1
            } else {
                do {
                    account = try await services.accounts.importAccount(
                        .init(
                            id: id, username: plan.user.username, passwordHash: plan.hash, email: plan.email, active: plan.user.active,
                            created: plan.user.created, details: ["original_user_id": plan.user.userID]),
                        context: services.context)
                    report.imported += 1
                } catch let error as AccessError where error.code == .usernameTaken {
                    report.failures.append(.init(key: plan.user.userID, reason: "a Warden account with its username exists already (not imported by this migration)"))
                    continue
                }
            }
            let held = try await services.access.grants(of: account)
            for (role, expires) in plan.roles where !held.contains(where: { $0.role == role && $0.expires == expires }) {
                try await services.access.grant(role, to: account, expires: expires, context: services.context)
            }
            progress.advance(by: 1)
        }
        progress.finish()
        report.auditEntries = try await importAccessLog(rbac)
    }

    /// Appends the original's access log to the audit log as imported history: one chained entry per row,
    /// with the original's time, marked `imported`. Each batch and its position are committed together
    /// (the position is the last entry's `original_id`), so a resumed run imports nothing twice.
    func importAccessLog(_ rbac: RBACDatabase) async throws -> Int {
        var last = Int64(try await services.store.lastAuditEntry(action: Self.importedAccessAction)?.event.details["original_id"] ?? "0") ?? 0
        var imported = 0
        let total = try await rbac.accessLogCount()
        let progress = ProgressMeter(label: "access log", total: total, quiet: quiet)
        while true {
            let rows = try await rbac.accessLog(after: last, limit: 500)
            guard let end = rows.last else { break }
            let events = rows.map { row -> AuditEvent in
                var details = ["imported": "true", "source": "rbac.db access_log", "original_id": String(row.id)]
                details["original_timestamp"] = row.timeText
                details["original_user_id"] = row.userID
                details["original_action"] = row.action
                details["resource"] = row.resource
                details["permission"] = row.permission
                details["denial_reason"] = row.denialReason
                details["user_agent"] = row.userAgent
                details["session_id"] = row.sessionID
                let outcome: AuditEvent.Outcome = row.granted == false ? .denied : .success
                return AuditEvent(
                    time: row.time ?? Date(timeIntervalSince1970: 0), action: Self.importedAccessAction, outcome: outcome,
                    actor: row.userID.map { "original:\($0)" } ?? "original:unknown",
                    subject: row.userID.map { AuditSubject.account(Self.accountID(forOriginalUser: $0)) },
                    sourceAddress: row.ipAddress, details: details)
            }
            try await services.store.append(events)
            imported += rows.count
            last = end.id
            progress.advance(by: rows.count)
        }
        progress.finish()
        return imported
    }

    /// Checks that every planned account exists with its username, status and grants.
    func verifyAccounts(_ plans: [AccountPlan], rbac: RBACDatabase, report: inout MigrationReport.Accounts) async throws {
        for plan in plans {
            let id = Self.accountID(forOriginalUser: plan.user.userID)
            guard let account = try await services.accounts.account(id: id) else {
                report.failures.append(.init(key: plan.user.userID, reason: "not imported"))
                continue
            }
            report.alreadyImported += 1
            if (account.status == .disabled) == plan.user.active {
                report.failures.append(.init(key: plan.user.userID, reason: "status differs from the original's is_active"))
            }
            let held = Set(try await services.access.grants(of: account).map(\.role))
            for (role, _) in plan.roles where !held.contains(role) {
                report.failures.append(.init(key: plan.user.userID, reason: "role \(role) not granted"))
            }
        }
        let imported = Int64(try await services.store.lastAuditEntry(action: Self.importedAccessAction)?.event.details["original_id"] ?? "0") ?? 0
        let newest = try await rbac.accessLogNewestID()
        if imported < newest {
            report.failures.append(.init(key: "access_log", reason: "imported up to id \(imported) of \(newest)"))
        }
        report.auditEntries = try await rbac.accessLogCount()
    }
}
