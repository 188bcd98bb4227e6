public import Testing
import WardenTestSupport

extension TestDatabase: CustomTestStringConvertible {
    var testDescription: String { rawValue }
}
