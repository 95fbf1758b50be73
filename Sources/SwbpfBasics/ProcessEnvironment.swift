#if canImport(Glibc)
import Glibc
#endif

/// The environment swbpf's children inherit.
package enum ProcessEnvironment {
    /// swbpf's own environment without `names`.
    package static func inherited(without names: Set<String>) -> [String: String] {
        var variables: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "="), !names.contains(String(text[..<equals])) {
                variables[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return variables
    }
}
