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
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let parts = path.split(separator: "/")
        return routes.withLock { routes in
            routes.first { route in
                route.segments.count == parts.count && zip(route.segments, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }?.methods
        }
    }
}
