/// What a project with Swift apps needs besides the C toolchain.
public struct SwiftTools: Equatable, Sendable, Codable {
    /// Compiles and links the Swift apps.
    public var swiftc: Tool
    /// Writes their module maps, umbrella headers and output-file maps.
    public var printf: Tool
    /// libbpf's headers (`bpf/*.h`) as the umbrella header reaches them, absolute: swiftc's depfile
    /// leaves out headers in system directories, so the Swift compile lists these as inputs and a
    /// new libbpf recompiles it. Empty for a libbpf built from a tree (the planner knows its headers).
    public var libbpfHeaders: [String]

    package init(swiftc: Tool, printf: Tool, libbpfHeaders: [String]) {
        self.swiftc = swiftc
        self.printf = printf
        self.libbpfHeaders = libbpfHeaders
    }
}
