import SwbpfBasics
import SwbpfModel

/// Decides whether a step must run, and says why. `--explain` prints this very reason, so the
/// explanation can never disagree with the decision.
public struct DirtyCheck {
    public let state: BuildState
    package let files: BuildFileSystem
    /// What this build has seen of a path: stat data, and the content digest once asked for.
    private struct Seen {
        var stat: FileStat?
        var digest: Digest??
    }
    /// Per-build memo: a header shared by many steps is stat'ed and looked up once, and a no-op
    /// build hashes each path string about once.
    private var seen: [String: Seen] = [:]
    private var treeDigests: [String: Digest?] = [:]

    public init(state: BuildState, files: BuildFileSystem) {
        self.state = state
        self.files = files
    }

    package mutating func stat(_ path: String) -> FileStat? {
        if let known = seen[path] { return known.stat }
        let value = files.stat(path)
        seen[path] = Seen(stat: value, digest: nil)
        return value
    }

    /// The content digest of `path` now (nil when it is missing), once per build.
    package mutating func digest(_ path: String) -> Digest? {
        let entry = seen[path] ?? Seen(stat: files.stat(path), digest: nil)
        if let known = entry.digest { return known }
        let value = entry.stat.flatMap { state.currentDigest(of: path, stat: $0, files: files) }
        seen[path] = Seen(stat: entry.stat, digest: .some(value))
        return value
    }

    /// The fingerprint of a source tree now (nil when it is missing), once per build.
    package mutating func treeDigest(_ tree: TreeInput) -> Digest? {
        if let known = treeDigests[tree.path] { return known }
        let value = TreeFingerprint.digest(of: tree, state: state, files: files)
        treeDigests[tree.path] = value
        return value
    }

    /// Forget what was seen of `path` (it was just rewritten by a step).
    package mutating func invalidate(_ path: String) {
        seen[path] = nil
    }

    /// Why `step` must run, or nil when it is up to date. Paths in `rebuilt` will be rewritten by
    /// earlier steps in this build (used by dry runs, which cannot know the new contents).
    public mutating func reason(for step: Step, rebuilt: Set<String> = []) -> String? {
        guard let record = state.steps[step.primaryOutput] else {
            return state.existedAtStart ? "no record of a previous build" : "no previous build state"
        }
        if record.toolIdentity != step.tool.identity {
            if record.toolVersion != step.tool.version {
                return "\(step.tool.role) changed: \(record.toolVersion) → \(step.tool.version)"
            }
            return "\(step.tool.role) changed: \(step.tool.path) is not the program it was (same version, different file)"
        }
        let command = step.displayCommand
        if record.commandLine != StepRecord.commandLine(command) {
            return "command changed: " + Self.describeChange(from: record.command, to: command)
        }
        for output in step.products {
            guard let current = stat(output) else { return "output \(output) missing" }
            if let recorded = record.outputs.first(where: { $0.path == output }), !recorded.stat.sameVersion(as: current) {
                return "output \(output) was modified after it was built"
            }
        }
        // Recorded in the step's order, so an order-preserving comparison suffices.
        if !record.inputs.lazy.filter({ $0.kind == .declared }).map(\.path).elementsEqual(step.inputs)
            || !record.inputs.lazy.filter({ $0.kind == .tree }).map(\.path).elementsEqual(step.treeInputs.map(\.path)) {
            return "inputs changed"
        }
        for input in record.inputs {
            // Trees last: a walk costs more than a stat.
            if input.kind == .tree { continue }
            if input.kind == .mustStayAbsent {
                if stat(input.path) != nil { return "new file \(input.path) comes before a header the step read on its include path" }
                continue
            }
            let what = input.discovered ? "header" : "input"
            if !rebuilt.isEmpty, rebuilt.contains(input.path) { return "\(what) \(input.path) is rebuilt" }
            guard stat(input.path) != nil else {
                return input.discovered ? "header \(input.path) disappeared" : "input \(input.path) missing"
            }
            if input.digest == .unknown { return "\(what) \(input.path) changed while the step ran, or could not be read" }
            if digest(input.path) != input.digest { return "\(what) \(input.path) changed" }
        }
        for tree in step.treeInputs {
            guard let recorded = record.inputs.first(where: { $0.kind == .tree && $0.path == tree.path }) else { return "inputs changed" }
            guard let now = treeDigest(tree) else { return "source tree \(tree.path) missing" }
            if recorded.digest == .unknown { return "source tree \(tree.path) changed while the step ran" }
            if now != recorded.digest { return "source tree \(tree.path) changed" }
        }
        return nil
    }

    /// `-O2 → -O1`, `added -DDEBUG`, `removed -Werror`: the words that differ, in order.
    package static func describeChange(from old: [String], to new: [String]) -> String {
        var oldCounts: [String: Int] = [:]
        old.forEach { oldCounts[$0, default: 0] += 1 }
        var newCounts: [String: Int] = [:]
        new.forEach { newCounts[$0, default: 0] += 1 }
        var removed: [String] = []
        var remaining = newCounts
        for word in old {
            if let count = remaining[word], count > 0 { remaining[word] = count - 1 } else { removed.append(word) }
        }
        var added: [String] = []
        remaining = oldCounts
        for word in new {
            if let count = remaining[word], count > 0 { remaining[word] = count - 1 } else { added.append(word) }
        }
        let before = Shell.join(removed), after = Shell.join(added)
        switch (removed.isEmpty, added.isEmpty) {
        case (true, true): return "arguments reordered"
        case (true, false): return "added \(after)"
        case (false, true): return "removed \(before)"
        case (false, false): return "\(before) → \(after)"
        }
    }
}
