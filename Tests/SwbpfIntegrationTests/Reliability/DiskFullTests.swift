import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfScaffolding
@testable import SwbpfDriver
import SwbpfTestSupport

/// A full disk fails the step that hit it, records nothing wrong, and once space returns the next
/// build equals a clean one.
@Suite(.timeLimit(.minutes(20))) struct DiskFullTests {
    @Test func afterSpaceReturnsTheNextBuildEqualsACleanBuild() throws {
        let project = try TemporaryProject("disk-full")
        try Reliability.writeApp(project, "tiny")
        let output = project.path(".output")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        // Room for vmlinux.h (2.8 MB) and its PCH (14.7 MB) once the filler is gone.
        let mount = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", output])
        try #require(mount.status == 0, "cannot mount a tmpfs (needs root): \(mount.output)")
        defer { _ = try? runProcess("/bin/umount", ["-l", output]) }
        // The tmpfs is swbpf's output directory, as if an earlier build had made it (so the filler
        // beside swbpf's state directory is a user's file in it, not a directory swbpf refuses).
        try FileManager.default.createDirectory(atPath: output + "/.swbpf", withIntermediateDirectories: false)
        // Leave less room than vmlinux.h needs, so the first step that writes much hits ENOSPC.
        let filler = output + "/filler"
        _ = try runProcess("/usr/bin/fallocate", ["-l", "30m", filler])
        let full = try project.swbpf("build")
        #expect(full.status == 1, "\(full.output)")
        #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(project.temporaryLeftovers.isEmpty, "\(project.temporaryLeftovers)")
        // Nothing recorded as finished may be truncated: every recorded product is whole.
        try FileManager.default.removeItem(atPath: filler)
        let recovered = try project.swbpf("build")
        #expect(recovered.status == 0, "\(recovered.output)")
        let products = [".output/vmlinux.h", ".output/tiny.tmp.bpf.o", ".output/tiny.bpf.o", ".output/tiny.skel.h", ".output/tiny.o", "tiny"]
        let afterRecovery = products.map { project.data($0) }
        #expect(afterRecovery.allSatisfy { $0 != nil })
        // A clean build in the same place gives the same bytes.
        _ = try project.swbpf("clean")
        #expect(try project.swbpf("build").status == 0)
        for (index, product) in products.enumerated() {
            #expect(project.data(product) == afterRecovery[index], "\(product) differs from a clean build")
        }
    }
}
