import Foundation
import WardenCore

/// The `otpauth://totp/…` URI authenticator apps read from a QR code (Google Authenticator's Key URI
/// format): label `Issuer:account`, and `secret`, `issuer`, `algorithm`, `digits`, `period`.
public enum OTPAuthURI {
    public static func totp(secret: [UInt8], issuer: String, account: String, algorithm: OTPAlgorithm, digits: Int, period: Int) -> String {
        let label = escape(issuer) + ":" + escape(account)
        let query = [
            "secret=" + Base32.encode(secret),
            "issuer=" + escape(issuer),
            "algorithm=" + algorithm.rawValue,
            "digits=" + String(digits),
            "period=" + String(period),
        ].joined(separator: "&")
        return "otpauth://totp/" + label + "?" + query
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (so `:`, `@`, `&`, `=`, `?`, `/`
    /// and spaces never break the label or the query).
    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }
}
