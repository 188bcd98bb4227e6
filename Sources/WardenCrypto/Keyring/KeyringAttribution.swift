/// Who a keyring change is attributed to in the audit log, when it is made for a caller other than the
/// process itself (an administrator rotating keys over HTTP).
///
/// Stores that audit keyring changes use ``actor`` when set, and their own configured actor otherwise.
public enum KeyringAttribution {
    @TaskLocal public static var actor: String?
}
