import Foundation

/// Where and as whom ``HTTPSMSSender`` sends text messages: a Twilio-style REST API.
///
/// - Important: `baseURL` must be `https`, except for a loopback host (a local stand-in in tests). The
///   auth token is never printed: `description`, `debugDescription` and `dump` show it redacted.
public struct HTTPSMSConfiguration: Sendable {
    /// The account identifier; it becomes part of the URL path, so only letters and digits.
    public var accountSID: String
    /// The secret that, with `accountSID`, makes the HTTP basic credentials.
    public var authToken: String
    /// The sending number (E.164) or sender ID the provider knows the account by.
    public var from: String
    /// The provider's base URL, `https://api.twilio.com` by default.
    public var baseURL: String
    /// How long one request may take in all.
    public var timeout: Duration

    public init(
        accountSID: String, authToken: String, from: String, baseURL: String = "https://api.twilio.com",
        timeout: Duration = .seconds(30)
    ) {
        self.accountSID = accountSID
        self.authToken = authToken
        self.from = from
        self.baseURL = baseURL
        self.timeout = timeout
    }

    /// `{baseURL}/2010-04-01/Accounts/{accountSID}/Messages.json`, after ``validate()``.
    var messagesURL: String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/2010-04-01/Accounts/\(accountSID)/Messages.json"
    }

    /// The base URL's host, for messages.
    var hostName: String { URLComponents(string: baseURL)?.host ?? "the SMS provider" }

    /// Checks everything that can be checked without sending.
    ///
    /// - Throws: ``DeliveryError/Code/misconfigured`` naming the setting.
    func validate() throws(DeliveryError) {
        guard let url = URLComponents(string: baseURL), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil,
            url.fragment == nil
        else {
            throw DeliveryError(.misconfigured, "SMS base URL must be an http(s) URL without credentials, query or fragment")
        }
        guard scheme == "https" || (scheme == "http" && HostAddress.isLoopback(host)) else {
            throw DeliveryError(.misconfigured, "SMS base URL must use https (http is allowed only for a loopback host)")
        }
        guard (1...64).contains(accountSID.utf8.count),
            accountSID.utf8.allSatisfy(\.isASCIIAlphanumeric)
        else {
            throw DeliveryError(.misconfigured, "SMS account SID must be 1 to 64 ASCII letters and digits")
        }
        guard !authToken.isEmpty, authToken.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw DeliveryError(.misconfigured, "SMS auth token is empty or contains control characters")
        }
        guard !from.isEmpty, from.utf8.count <= 64, EmailMessage.isValidHeaderText(from), !from.contains("\t") else {
            throw DeliveryError(.misconfigured, "SMS sender (from) is empty, too long or contains control characters")
        }
        guard timeout > .zero else {
            throw DeliveryError(.misconfigured, "SMS timeout must be positive")
        }
    }
}

extension HTTPSMSConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Base URL, account and sender; never the token.
    public var description: String {
        "HTTPSMSConfiguration(\(baseURL), account: \(accountSID), from: \(from), authToken: redacted)"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and debuggers from printing the token.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accountSID": accountSID, "authToken": "redacted", "from": from, "baseURL": baseURL, "timeout": timeout,
            ])
    }
}
