/// The SMTP client's conversation for one message, as a plain value: each event (a reply, TLS coming
/// up) returns the ``Action`` the channel handler performs. No I/O here, so every path, including the
/// refusals, is tested without a server.
///
/// The conversation: greeting, EHLO, STARTTLS and EHLO again (unless TLS is implicit or off), AUTH
/// (PLAIN, else LOGIN) when there are credentials, MAIL FROM, RCPT TO, DATA, the content, QUIT.
///
/// - Important: With ``SMTPConfiguration/Security/startTLS`` the machine never gets past EHLO without
///   TLS: a server that does not offer STARTTLS is an error, not a reason to carry on in plaintext.
///   Credentials are never sent over plaintext to a host that is not loopback.
struct SMTPClientStateMachine: Sendable {
    struct Settings: Sendable {
        var security: SMTPConfiguration.Security
        var heloName: String
        var username: String?
        var password: String?
        /// Whether the host is this machine (see ``HostAddress/isLoopback(_:)``).
        var hostIsLoopback: Bool
        /// `host:port`, for error messages.
        var serverName: String
    }

    struct Envelope: Sendable {
        var from: String
        var to: String
        /// Whether the content has an 8-bit form worth sending when the server offers 8BITMIME.
        var hasEightBitContent: Bool
    }

    enum Action: Sendable, Equatable {
        case send(SMTPCommand)
        /// Put TLS in front of the connection, then call ``tlsEstablished()``.
        case startTLS
        /// Send the message content (dot-stuffed, ending with `.` on a line of its own).
        case sendContent(eightBit: Bool)
        /// The server accepted the message: it counts as sent. Send QUIT, then close.
        case delivered
        case fail(DeliveryError, sendQuit: Bool)
        case close
        case none
    }

    private enum State: Sendable {
        case greeting
        case ehlo
        case startTLS
        case tlsHandshake
        case authPlain
        case authLogin(step: Int)
        case mail
        case recipient
        case data
        case content
        case quit
        case done
    }

    private let settings: Settings
    private let envelope: Envelope
    private var state = State.greeting
    private(set) var isTLS: Bool
    private var useEightBit = false

    init(settings: Settings, envelope: Envelope) {
        self.settings = settings
        self.envelope = envelope
        self.isTLS = settings.security == .implicitTLS
    }

    /// The step the conversation is at, for timeout and connection-loss messages.
    var step: String {
        switch state {
        case .greeting: "greeting"
        case .ehlo: "EHLO"
        case .startTLS: "STARTTLS"
        case .tlsHandshake: "TLS handshake"
        case .authPlain, .authLogin: "AUTH"
        case .mail: "MAIL FROM"
        case .recipient: "RCPT TO"
        case .data: "DATA"
        case .content: "end of data"
        case .quit: "QUIT"
        case .done: "end"
        }
    }

    /// Whether the server has accepted the message; after that, a lost connection changes nothing.
    private(set) var isDelivered = false

    mutating func replyReceived(_ reply: SMTPReply) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else {
                return fail(.unavailable, "SMTP server \(settings.serverName) refused the session (\(reply.summary))")
            }
            return send(.ehlo(settings.heloName), next: .ehlo)

        case .ehlo:
            guard reply.code == 250 else {
                let code: DeliveryError.Code = reply.isTransientFailure ? .unavailable : .misconfigured
                return fail(code, "SMTP server \(settings.serverName) refused EHLO (\(reply.summary))")
            }
            let capabilities = SMTPCapabilities(ehloReply: reply)
            if settings.security == .startTLS && !isTLS {
                guard capabilities.startTLS else {
                    return fail(
                        .misconfigured,
                        "SMTP server \(settings.serverName) does not offer STARTTLS; refusing to send without TLS")
                }
                return send(.startTLS, next: .startTLS)
            }
            useEightBit = capabilities.eightBitMIME && envelope.hasEightBitContent
            return authenticateOrSendMail(capabilities)

        case .startTLS:
            guard reply.code == 220 else {
                let code: DeliveryError.Code = reply.isTransientFailure ? .unavailable : .misconfigured
                return fail(code, "SMTP server \(settings.serverName) refused STARTTLS (\(reply.summary))")
            }
            state = .tlsHandshake
            return .startTLS

        case .tlsHandshake:
            return fail(.unavailable, "SMTP server \(settings.serverName) sent a reply during the TLS handshake")

        case .authPlain, .authLogin(step: 2):
            guard reply.code == 235 else { return authFailed(reply) }
            return send(.mail(from: envelope.from, eightBitMIME: useEightBit), next: .mail)

        case .authLogin(let step):
            guard reply.code == 334 else { return authFailed(reply) }
            let answer = step == 0 ? settings.username ?? "" : settings.password ?? ""
            return send(.authLoginResponse(answer), next: .authLogin(step: step + 1))

        case .mail:
            guard reply.code == 250 else { return refused("MAIL FROM", reply) }
            return send(.recipient(envelope.to), next: .recipient)

        case .recipient:
            guard reply.code == 250 || reply.code == 251 else { return refused("the recipient", reply) }
            return send(.data, next: .data)

        case .data:
            guard reply.code == 354 else { return refused("DATA", reply) }
            state = .content
            return .sendContent(eightBit: useEightBit)

        case .content:
            guard reply.code == 250 else { return refused("the message", reply) }
            state = .quit
            isDelivered = true
            return .delivered

        case .quit, .done:
            state = .done
            return .close
        }
    }

    /// TLS is in place after STARTTLS: every later byte goes through it (the TLS handler holds writes
    /// until its handshake has succeeded). For implicit TLS there is nothing to do.
    mutating func tlsEstablished() -> Action {
        guard case .tlsHandshake = state else { return .none }
        isTLS = true
        // RFC 3207 §4.2: forget everything learnt before TLS and ask again.
        return send(.ehlo(settings.heloName), next: .ehlo)
    }

    private mutating func authenticateOrSendMail(_ capabilities: SMTPCapabilities) -> Action {
        guard settings.security == .none || isTLS else {
            return fail(.misconfigured, "internal error: TLS required but not established")
        }
        guard let username = settings.username, let password = settings.password else {
            return send(.mail(from: envelope.from, eightBitMIME: useEightBit), next: .mail)
        }
        guard isTLS || settings.hostIsLoopback else {
            return fail(.misconfigured, "refusing to send SMTP credentials to \(settings.serverName) without TLS")
        }
        if capabilities.authMechanisms.contains("PLAIN") {
            return send(.authPlain(username: username, password: password), next: .authPlain)
        }
        if capabilities.authMechanisms.contains("LOGIN") {
            return send(.authLogin, next: .authLogin(step: 0))
        }
        return fail(
            .misconfigured,
            "SMTP server \(settings.serverName) offers no supported AUTH mechanism (PLAIN or LOGIN)")
    }

    private mutating func authFailed(_ reply: SMTPReply) -> Action {
        if reply.isTransientFailure {
            return fail(.unavailable, "SMTP server \(settings.serverName) could not check the credentials now (\(reply.summary))")
        }
        return fail(.misconfigured, "SMTP server \(settings.serverName) refused the credentials (\(reply.summary))")
    }

    private mutating func refused(_ what: String, _ reply: SMTPReply) -> Action {
        if reply.isTransientFailure {
            return fail(.unavailable, "SMTP server \(settings.serverName) deferred \(what) (\(reply.summary))")
        }
        if reply.isPermanentFailure {
            return fail(.rejected, "SMTP server \(settings.serverName) rejected \(what) (\(reply.summary))")
        }
        return fail(.unavailable, "SMTP server \(settings.serverName) gave an unexpected reply to \(what) (\(reply.summary))")
    }

    private mutating func send(_ command: SMTPCommand, next: State) -> Action {
        state = next
        return .send(command)
    }

    private mutating func fail(_ code: DeliveryError.Code, _ message: String) -> Action {
        // QUIT is polite once the session is up; before the greeting there is no session to end.
        let sendQuit: Bool
        switch state {
        case .greeting, .tlsHandshake: sendQuit = false
        default: sendQuit = true
        }
        state = .done
        return .fail(DeliveryError(code, message), sendQuit: sendQuit)
    }
}
