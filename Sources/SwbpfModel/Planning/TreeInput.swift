/// A source tree that a step reads as a whole (a libbpf or bpftool checkout). Its input is one
/// content fingerprint of all its files, so a submodule bump reruns the step and a `touch`
/// does not.
public struct TreeInput: Hashable, Sendable, Codable {
    /// The tree's root, named as steps name paths (relative to the project root, or absolute).
    public var path: String
    /// What is not part of it (what an in-tree build writes there): paths relative to the root,
    /// or `*SUFFIX` for every file whose name ends so. `.git` is always left out.
    public var excluded: [String]

    public init(path: String, excluded: [String] = []) {
        self.path = path
        self.excluded = excluded
    }
}
