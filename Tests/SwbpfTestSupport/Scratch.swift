import Foundation
import Testing
import SwbpfBasics
import SwbpfModel
import SwbpfToolchain
import SwbpfBuild
import SwbpfKernel
import SwbpfViews
import SwbpfScaffolding
import SwbpfDriver
#if canImport(Glibc)
import Glibc
#endif

// Files swbpf creates itself (temporaries, the lock, the state) are never opened through a symbolic
// link planted in their place, and never clobber what is there: first the primitives, then the
// binary with links planted before a build.

/// A scratch directory with a victim file outside anything swbpf is asked to write.
package final class Scratch {
    package let directory: String
    package let victim: String
    package static let victimBytes = Array("the victim's own bytes\n".utf8)

    package init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-links-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/elsewhere", withIntermediateDirectories: true)
        victim = directory + "/elsewhere/victim"
        try Data(Self.victimBytes).write(to: URL(fileURLWithPath: victim))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    package func path(_ name: String) -> String { directory + "/" + name }

    package func link(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: name.hasPrefix("/") ? name : path(name), withDestinationPath: target)
    }

    package var victimIsIntact: Bool { FileSystem.read(victim) == Self.victimBytes && !FileSystem.isSymbolicLink(victim) }
}

package func bytes(_ path: String) -> String? { FileSystem.readText(path) }
