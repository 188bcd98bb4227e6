/// The OpenAPI 3.1 description of the API, served at `GET /openapi.json` (a copy lives in docs/openapi.json;
/// a test checks they are the same).
enum OpenAPIDocument {
    static let json = #"""
    {}
    """#
}
