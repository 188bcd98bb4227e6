import HTTPTypes
import Synchronization

/// Every route's pattern and methods, as registered: what the middleware answers 405 (with `Allow`)
/// from, for a path that exists under another method.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], methods: Set<HTTPRequest.Method>)]>([])

    func add(_ pattern: String, _ method: HTTPRequest.Method) {
        let segments = pattern.split(separator: "/")
        routes.withLock { routes in
            if let index = routes.firstIndex(where: { $0.segments == segments }) {
                routes[index].methods.insert(method)
            } else {
                routes.append((segments, [method]))
            }
        }
    }

    /// The methods of the route matching `path` (`:name` segments match any one segment), or `nil`.
    ///
    /// When several match, the most specific wins, as in the router: a literal segment before a
    /// parameter, compared from the left (`/auth/passkeys/login` over `/auth/passkeys/:id`), whatever
    /// the order the routes were added in.
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let parts = path.split(separator: "/")
        return routes.withLock { routes in
            routes.filter { route in
                route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }.min { Self.lessGeneral($0.segments, than: $1.segments) }?.methods
        }
    }

    /// Whether `a` has a literal segment where `b` has a parameter, at the first place they differ so.
    private static func lessGeneral(_ a: [Substring], than b: [Substring]) -> Bool {
        for (x, y) in zip(a, b) where x.hasPrefix(":") != y.hasPrefix(":") { return !x.hasPrefix(":") }
        return false
    }
}
