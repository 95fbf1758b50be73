/// A source tree that a step reads as a whole (a libbpf or bpftool checkout). Its input is one
/// content fingerprint of all its files, so a submodule bump reruns the step and a `touch`
/// does not.
public struct TreeInput: Hashable, Sendable, Codable {
    /// The tree's root, named as steps name paths (relative to the project root, or absolute).
    public var path: String
    /// What is not part of it (what an in-tree build writes there): paths relative to the root,
    /// or `*SUFFIX` for every file whose name ends so. `.git` is always left out.
    public var excluded: [String]
    /// Whether the step maps the tree's absolute path (and the project's) out of what it makes
    /// (`-ffile-prefix-map`), so that its products are the same wherever the tree is: then the
    /// cache keys it by the tree's content alone, else by its path too.
    public var pathMapped: Bool

    public init(path: String, excluded: [String] = [], pathMapped: Bool = false) {
        self.path = path
        self.excluded = excluded
        self.pathMapped = pathMapped
    }
}
