public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to the loopback address, for tests that need byte-level control over a
/// request (headers or a body sent slowly, a response left unread).
// @unchecked: a test hands a connection from one task to the next; it is never used by two at once.
public final class RawConnection: @unchecked Sendable {
    /// -1 once closed. (A class whose initializer throws after setting every property still runs its
    /// `deinit`: closing in both places closed the descriptor twice, and the second close could hit
    /// a socket another test's server had just been given the same number: an event loop then found its
    /// descriptor closed under it.)
    private var fd: Int32

    /// - Parameters:
    ///   - receiveBuffer: the socket's receive buffer in bytes (set before connecting; `nil`: the default),
    ///     to make a reader that stops reading fill its window quickly.
    ///   - timeout: how long a receive waits for data.
    public init(port: Int, receiveBuffer: Int? = nil, timeout: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            fd = -1
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Whether a connection to `port` is refused (nothing listens there any more).
    public static func isRefused(port: Int) -> Bool {
        do {
            _ = try RawConnection(port: port)
            return false
        } catch let error as POSIXError {
            return error.code == .ECONNREFUSED
        } catch {
            return false
        }
    }

    /// Whether all of `bytes` went out (false once the peer has closed).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Whether the peer has closed its end (a read without waiting sees end of file or a reset).
    public func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// What arrives within a short while (one response), as text.
    public func receive() -> String {
        String(decoding: receiveBytes(), as: UTF8.self)
    }

    /// What one read returns: empty at end of file, after a reset, or when nothing came in time.
    public func receiveBytes(upTo size: Int = 4096) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: size)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[..<count]) : []
    }

    /// Reads until the peer closes (or `timeout`); returns the bytes and whether the peer closed.
    public func receiveUntilClosed(timeout: TimeInterval) -> (bytes: Int, closed: Bool) {
        let end = Date().addingTimeInterval(timeout)
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < end {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                total += count
                continue
            }
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return (total, true) }
        }
        return (total, false)
    }
}

/// 127.0.0.1 and `port` (0: any free port), as the socket calls take it.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}
