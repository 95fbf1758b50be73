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
#if canImport(Glibc)
import Glibc
#endif

struct ELFIdentityTests {
    /// The first 20 bytes of an ELF header: e_ident, e_type and e_machine in the file's byte order.
    static func header(bits: UInt8, order: UInt8, machine: UInt16) -> [UInt8] {
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, bits, order, 1, 0] + [UInt8](repeating: 0, count: 8) + [2, 0]
        bytes += order == 1 ? [UInt8(machine & 0xFF), UInt8(machine >> 8)] : [UInt8(machine >> 8), UInt8(machine & 0xFF)]
        return bytes + [UInt8](repeating: 0, count: 44)
    }

    @Test func readsMachineClassAndByteOrder() {
        #expect(ELFIdentity(header: Self.header(bits: 2, order: 1, machine: 183)) == ELFIdentity(machine: 183, bits: 64, byteOrder: .little))
        #expect(ELFIdentity(header: Self.header(bits: 2, order: 2, machine: 22)) == ELFIdentity(machine: 22, bits: 64, byteOrder: .big))
        #expect(ELFIdentity(header: Self.header(bits: 1, order: 1, machine: 40)) == ELFIdentity(machine: 40, bits: 32, byteOrder: .little))
        #expect(ELFIdentity(header: Array("#!/bin/sh\necho not an ELF file\n".utf8)) == nil)
        #expect(ELFIdentity(header: Array(Self.header(bits: 2, order: 1, machine: 183).prefix(19))) == nil)
        #expect(ELFIdentity(header: Self.header(bits: 3, order: 1, machine: 183)) == nil)
        #expect(ELFIdentity(machine: 183, bits: 64, byteOrder: .little).description == "aarch64 (ELF64, little-endian)")
    }

    @Test func theHostsOwnProgramsAreHostELF() throws {
        let host = try #require(TargetArch.host)
        let bytes = try #require(FileSystem.read("/bin/sh"))
        #expect(ELFIdentity(header: bytes) == host.elf)
        let readelf = try runProcess("/usr/bin/readelf", ["-h", "/bin/sh"]).stdout
        #expect(readelf.contains(host.elf.bits == 64 ? "ELF64" : "ELF32"))
    }

    @Test func thePostconditionSaysWhatIsWrong() {
        let arm64 = ELFIdentity(machine: 183, bits: 64, byteOrder: .little)
        let check = StepPostcondition.elf(arm64)
        #expect(check.violation(Self.header(bits: 2, order: 1, machine: 183)) == nil)
        #expect(check.violation(Self.header(bits: 2, order: 1, machine: 62))
                == "it is built for x86_64 (ELF64, little-endian), not for the target's aarch64 (ELF64, little-endian)")
        #expect(check.violation(Self.header(bits: 1, order: 1, machine: 183))?.contains("ELF32") == true)
        #expect(check.violation(Array("text".utf8))?.hasPrefix("it is not an ELF file") == true)
    }
}

/// What the arm64 builds need here: the cross compiler, Debian's arm64 libraries (static ones
/// too), qemu and the vendored arm64 vmlinux.h.
enum CrossPackages {
    static let needed = ["/usr/bin/aarch64-linux-gnu-gcc", "/usr/lib/aarch64-linux-gnu/libbpf.a", "/usr/lib/aarch64-linux-gnu/libelf.a",
                         "/usr/lib/aarch64-linux-gnu/libz.a", "/usr/include/aarch64-linux-gnu/asm/types.h", "/usr/bin/qemu-aarch64-static"]
    static let missing = needed.filter { !FileManager.default.fileExists(atPath: $0) }
    static let available = missing.isEmpty && SharedSources.available
        && FileManager.default.fileExists(atPath: SharedSources.path + "/vmlinux.h/include/aarch64")
    static let skipReason: Comment = "the arm64 cross toolchain is not installed (missing: \(missing.joined(separator: ", ")); scripts/system-packages --cross installs it) or the vendored vmlinux.h trees are not at \(SharedSources.path)"
}

/// A project at `examples/c` with libbpf-bootstrap's vendored vmlinux.h beside it, for arm64 and
/// for this machine, and apps from the templates.
final class CrossLayout {
    let base: TemporaryProject
    let project: TemporaryProject

    init(_ label: String, templates: [(name: String, template: String)]) throws {
        base = try TemporaryProject(label)
        project = try TemporaryProject(nested: base.path + "/examples/c")
        try SharedSources.copyVmlinux(arch: "aarch64", to: base.path + "/vmlinux.h/include/aarch64")
        try FileManager.default.createSymbolicLink(atPath: base.path + "/vmlinux.h/include/arm64", withDestinationPath: "aarch64")
        try SharedSources.copyVmlinux(arch: hostTargetArch, to: base.path + "/vmlinux.h/include/" + hostTargetArch)
        for (name, template) in templates {
            let added = try project.swbpf("add", name, "--template", template)
            #expect(added.status == 0, "\(added.output)")
        }
    }

    /// `readelf -h` of a file: its class, byte order and machine as binutils names them.
    func readelf(_ name: String) throws -> String { try runProcess("/usr/bin/readelf", ["-h", "-l", project.url(name).path]).stdout }

    func qemu(_ binary: String, sysroot: Bool) throws -> RunResult {
        try runProcess("/usr/bin/qemu-aarch64-static", (sysroot ? ["-L", "/usr/aarch64-linux-gnu"] : []) + ["./" + binary, "--help"],
                       in: project.path)
    }
}

@Suite(.enabled(if: CrossPackages.available, CrossPackages.skipReason))
struct CrossBuildIntegrationTests {
    static let templates = [("minimal", "Usage: ./arm64/minimal [-v] [-d SECONDS] [--load-only]"),
                            ("ringbuf", "Usage: ./arm64/ringbuf [-v] [-d SECONDS] [-D MS] [--load-only]")]

    @Test(arguments: templates)
    func arm64TemplatesRunUnderQemuDynamicAndStatic(template: String, usage: String) throws {
        let layout = try CrossLayout("cross-\(template)", templates: [(template, template)])
        let built = try layout.project.swbpf("build", "-v", "ARCH=arm64")
        #expect(built.status == 0, "\(built.output)")
        let commands = built.stdout.lines
        let bpf = try #require(commands.first { $0.hasPrefix("clang ") && $0.contains(" -c \(template).bpf.c") })
        #expect(bpf.hasPrefix("clang -g -O2 -target bpfel -D__TARGET_ARCH_arm64 "), "\(bpf)")
        #expect(bpf.contains(" -idirafter /usr/include/aarch64-linux-gnu ") && !bpf.contains("x86_64-linux-gnu"), "\(bpf)")
        #expect(bpf.contains(" -I../../vmlinux.h/include/arm64 ") && bpf.contains(" -o .output/arm64/\(template).tmp.bpf.o"), "\(bpf)")
        let link = try #require(commands.first { $0.contains(" -o arm64/\(template)") })
        #expect(link.hasPrefix("aarch64-linux-gnu-gcc ") && link.contains(" /usr/lib/aarch64-linux-gnu/libbpf.a -lelf -lz "), "\(link)")
        #expect(built.stderr.contains("note: building for arm64 (aarch64-linux-gnu, from ARCH) with aarch64-linux-gnu-gcc; outputs in .output/arm64, binaries in arm64/"),
                "\(built.stderr)")
        #expect(!layout.project.exists(template), "a host binary was made beside the sources")

        var header = try layout.readelf("arm64/\(template)")
        #expect(header.contains("ELF64") && header.contains("little endian") && header.contains("AArch64"), "\(header)")
        #expect(header.contains("/lib/ld-linux-aarch64.so.1"), "a dynamic binary names the arm64 loader: \(header)")
        var run = try layout.qemu("arm64/\(template)", sysroot: true)
        #expect(run.status == 0 && run.stdout.hasPrefix(usage + "\n"), "\(run.output)")

        let linked = try layout.project.swbpf("build", "--static", "ARCH=aarch64")
        #expect(linked.status == 0 && linked.stdout.lines == ["  BINARY   arm64/\(template)"], "only the link changes: \(linked.output)")
        header = try layout.readelf("arm64/\(template)")
        #expect(header.contains("AArch64") && !header.contains("INTERP"), "a static binary has no program interpreter: \(header)")
        run = try layout.qemu("arm64/\(template)", sysroot: false)
        #expect(run.status == 0 && run.stdout.hasPrefix(usage + "\n"), "without -L: \(run.output)")
    }

    @Test func switchingArchBackAndForthRebuildsNothingTheSecondTime() throws {
        let layout = try CrossLayout("cross-switch", templates: [("tracer", "minimal")])
        let project = layout.project
        for (arguments, environment) in [([], [:]), (["ARCH=arm64"], [:]), ([], ["ARCH": "x86_64"]), (["--arch", "aarch64"], [:])]
            as [([String], [String: String])] {
            let first = try Swbpf.run(["build"] + arguments, in: project.path, environment: environment)
            #expect(first.status == 0, "\(arguments) \(environment): \(first.output)")
        }
        #expect(try layout.readelf("tracer").contains("X86-64") || hostTargetArch != "x86")
        #expect(try layout.readelf("arm64/tracer").contains("AArch64"))
        for (arguments, environment) in [([], [:]), (["ARCH=arm64"], [:]), ([], ["ARCH": hostTargetArch]), (["--arch", "arm64"], [:]), ([], [:])]
            as [([String], [String: String])] {
            let again = try Swbpf.run(["build"] + arguments, in: project.path, environment: environment)
            #expect(again.status == 0 && again.stdout.contains("nothing to do"), "\(arguments) \(environment): \(again.output)")
        }
        try project.write("swbpf.toml", "arch = \"arm64\"\n")
        let configured = try project.swbpf("build")
        #expect(configured.status == 0 && configured.stdout.contains("nothing to do"), "swbpf.toml arch: \(configured.output)")
        // Cleaning one target leaves the other's products.
        let cleaned = try project.swbpf("clean")
        #expect(cleaned.status == 0 && cleaned.stdout.contains("CLEAN    arm64/tracer"), "\(cleaned.output)")
        #expect(!project.exists("arm64/tracer") && project.exists("tracer") && project.exists(".output/tracer.o"))
    }

    @Test func aBinaryForTheWrongMachineFailsItsStepAndIsRemoved() throws {
        let layout = try CrossLayout("cross-wrong", templates: [("tracer", "minimal")])
        let hostLibbpf = try #require(["/usr/lib/x86_64-linux-gnu/libbpf.a", "/usr/lib/\(TargetArch.host?.triple ?? "")/libbpf.a"]
            .first { FileManager.default.fileExists(atPath: $0) })
        // The host's compiler and libbpf make a host binary that links: only the ELF check can tell.
        for _ in 0..<2 {
            let built = try layout.project.swbpf("build", "ARCH=arm64", environment: ["CC": "cc", "LIBBPF_OBJ": hostLibbpf])
            #expect(built.status == 1, "\(built.output)")
            #expect(built.stderr.contains("error: BINARY arm64/tracer failed (cc made arm64/tracer, but it is built for \(TargetArch.host?.elf.description ?? "?"), not for the target's aarch64 (ELF64, little-endian); it was removed)"),
                    "\(built.stderr)")
            #expect(!layout.project.exists("arm64/tracer"))
        }
        let fixed = try layout.project.swbpf("build", "ARCH=arm64")
        #expect(fixed.status == 0 && layout.project.exists("arm64/tracer"), "\(fixed.output)")
    }

    @Test func anUnknownArchIsRefusedWithTheList() throws {
        let layout = try CrossLayout("cross-bogus", templates: [("tracer", "minimal")])
        let refused = try layout.project.swbpf("build", "ARCH=bogus")
        #expect(refused.status == 1 && refused.stderr.contains("error: 'bogus' (ARCH) is not an architecture swbpf can build for"), "\(refused.output)")
        #expect(refused.stderr.contains("arm64/aarch64") && refused.stderr.contains("loongarch/loongarch64"), "\(refused.stderr)")
        let option = try layout.project.swbpf("build", "--arch", "sparc")
        #expect(option.status == 1 && option.stderr.contains("'sparc' (--arch)"), "\(option.output)")
        try layout.project.write("swbpf.toml", "# target\narch = \"mips\"\n")
        let configured = try layout.project.swbpf("build")
        #expect(configured.status == 1 && configured.stderr.contains("'mips' (swbpf.toml arch (line 2))"), "\(configured.output)")
        #expect(!layout.project.exists(".output"), "nothing was written")
    }

    @Test func aBigEndianTargetIsRefusedBeforeAnyStepNamingBpftoolAndItsLibbpf() throws {
        // Nothing for s390x is installed here (its cross libraries conflict with amd64's libelf-dev),
        // and the error comes first all the same: before the compiler, headers and vmlinux.h.
        let layout = try CrossLayout("cross-s390", templates: [("tracer", "minimal")])
        let bpftool = try #require(["/usr/sbin/bpftool", "/usr/bin/bpftool"].first { FileManager.default.isExecutableFile(atPath: $0) })
        // `/usr/sbin/bpftool v7.1.0` (bpftool names itself by argv[0]), then `using libbpf v1.1`.
        let version = try runProcess(bpftool, ["version"]).stdout.lines
        let bpftoolVersion = try #require(version.first?.split(separator: " ").last).dropFirst()
        let libbpf = try #require(version.first { $0.hasPrefix("using libbpf v") }).dropFirst("using libbpf v".count)
        let refused = try layout.project.swbpf("build", "ARCH=s390x", environment: ["BPFTOOL": bpftool])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("error: s390 is big-endian, and bpftool \(bpftoolVersion) (\(bpftool)) (using libbpf \(libbpf)) cannot open big-endian BPF objects"),
                "\(refused.stderr)")
        #expect(refused.stderr.contains("libbpf 1.5 or newer"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("GEN-OBJ") && !layout.project.exists(".output/s390/tracer.tmp.bpf.o"))
        // A bpftool whose libbpf reads either byte order passes that check, and the build stops at
        // what this machine lacks for s390x instead.
        let tools = try TemporaryProject("cross-s390-tools")
        try tools.write("bpftool", "#!/bin/sh\necho 'bpftool v7.6.0'\necho 'using libbpf v1.6'\n")
        chmod(tools.url("bpftool").path, 0o755)
        let passed = try layout.project.swbpf("build", "ARCH=s390x", environment: ["BPFTOOL": tools.url("bpftool").path])
        #expect(passed.status == 1 && !passed.stderr.contains("big-endian"), "\(passed.output)")
    }

    @Test func theCompilerComesFromCrossCompileThenTheTripleThenClang() throws {
        let layout = try CrossLayout("cross-compilers", templates: [("tracer", "minimal")])
        let project = layout.project
        let prefixed = try project.swbpf("build", "-v", "ARCH=arm64", environment: ["CROSS_COMPILE": "aarch64-linux-gnu-"])
        #expect(prefixed.status == 0 && prefixed.stderr.contains("from ARCH) with aarch64-linux-gnu-gcc;"), "\(prefixed.output)")
        // A prefix that names no compiler is what is wrong, whether or not the target's gcc is here.
        let missing = try project.swbpf("build", "ARCH=arm64", environment: ["CROSS_COMPILE": "no-such-toolchain-"])
        #expect(missing.status == 1 && missing.stderr.contains("CROSS_COMPILE=no-such-toolchain- names the compiler no-such-toolchain-gcc, which is not on PATH")
                && missing.stderr.contains("set CROSS_COMPILE=aarch64-linux-gnu- (the prefix includes the trailing '-')"), "\(missing.output)")
        let undashed = try project.swbpf("build", "ARCH=arm64", environment: ["CROSS_COMPILE": "aarch64-linux-gnu"])
        #expect(undashed.status == 1 && !undashed.stderr.contains("aarch64-linux-gnu-gcc is not on PATH")
                && undashed.stderr.contains("aarch64-linux-gnugcc, which is not on PATH"), "\(undashed.output)")
        // With no aarch64-linux-gnu-gcc on PATH, clang cross-compiles, linking with the cross ld.
        let tools = try TemporaryProject("cross-path")
        for tool in ["/usr/bin/clang", "/usr/bin/aarch64-linux-gnu-ld", "/usr/bin/make", "/usr/bin/ln", "/usr/bin/pkg-config"] {
            try FileManager.default.createSymbolicLink(atPath: tools.url(URL(fileURLWithPath: tool).lastPathComponent).path,
                                                       withDestinationPath: tool)
        }
        let clang = try project.swbpf("build", "-v", "ARCH=arm64", environment: ["PATH": tools.path])
        #expect(clang.status == 0, "\(clang.output)")
        #expect(clang.stdout.lines.contains { $0.hasPrefix("clang --target=aarch64-linux-gnu -g -Wall ") && $0.hasSuffix(" -o arm64/tracer") },
                "\(clang.stdout)")
        #expect(try layout.readelf("arm64/tracer").contains("AArch64"))
        #expect(try layout.qemu("arm64/tracer", sysroot: true).stdout.hasPrefix("Usage: ./arm64/tracer "))
        // Without a linker for the target either, the error names the package.
        try FileManager.default.removeItem(atPath: tools.url("aarch64-linux-gnu-ld").path)
        let none = try project.swbpf("build", "ARCH=arm64", environment: ["PATH": tools.path])
        #expect(none.status == 1 && none.stderr.contains("apt-get install gcc-aarch64-linux-gnu libbpf-dev:arm64"), "\(none.output)")
    }

    @Test func aStaticHostBinaryLoadsItsPrograms() throws {
        let layout = try CrossLayout("static-host", templates: [("tracer", "minimal")])
        let built = try layout.project.swbpf("build", "-v", "--static")
        #expect(built.status == 0, "\(built.output)")
        let link = try #require(built.stdout.lines.first { $0.hasSuffix(" -o tracer") })
        #expect(link.contains(" -lelf -lz -static -o tracer"), "\(link)")
        let header = try layout.readelf("tracer")
        #expect(!header.contains("INTERP") && header.contains("EXEC"), "\(header)")
        try #require(geteuid() == 0, "loading programs needs root (CAP_BPF)")
        let loaded = try runProcess(layout.project.url("tracer").path, ["--load-only"], in: layout.project.path)
        #expect(loaded.status == 0 && loaded.output.contains("verifier accepted"), "\(loaded.output)")
    }

    @Test func doctorNamesTheCrossToolchainAndThePackagesItLacks() throws {
        let layout = try CrossLayout("cross-doctor", templates: [("tracer", "minimal")])
        let arm64 = try layout.project.swbpf("doctor", "--arch", "arm64")
        #expect(arm64.stdout.contains("target arm64 (aarch64-linux-gnu, from --arch)\n  ✓ aarch64-linux-gnu-gcc (/usr/bin/aarch64-linux-gnu-gcc"), "\(arm64.output)")
        #expect(arm64.stdout.contains("✓ libbpf 1.1 (/usr/lib/aarch64-linux-gnu/libbpf.a)") || arm64.stdout.contains("✓ libbpf "), "\(arm64.stdout)")
        #expect(arm64.stdout.contains("✓ vmlinux.h for arm64: ../../vmlinux.h/include/arm64"), "\(arm64.stdout)")
        // LIBBPF_OBJ is the libbpf the build links, so it is the one doctor checks.
        try FileManager.default.createDirectory(atPath: layout.project.path("own"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/lib/aarch64-linux-gnu/libbpf.a", toPath: layout.project.path("own/libbpf.a"))
        let own = try layout.project.swbpf("doctor", "--arch", "arm64", environment: ["LIBBPF_OBJ": "own/libbpf.a"])
        #expect(own.stdout.contains("✓ libbpf ") && own.stdout.contains("own/libbpf.a)\n"), "\(own.stdout)")
        // Debian 12 has no riscv64 libraries: each missing one is named with its package.
        let riscv = try layout.project.swbpf("doctor", environment: ["ARCH": "riscv64"])
        #expect(riscv.status == 1, "\(riscv.output)")
        #expect(riscv.stdout.contains("install libbpf-dev:riscv64: 'dpkg --add-architecture riscv64 && apt-get update && apt-get install gcc-riscv64-linux-gnu libbpf-dev:riscv64 libelf-dev:riscv64 zlib1g-dev:riscv64'"),
                "\(riscv.stdout)")
        #expect(riscv.stdout.contains("✗ no vmlinux.h for riscv") && riscv.stdout.contains("https://github.com/libbpf/vmlinux.h"), "\(riscv.stdout)")
    }
}

@Suite(.enabled(if: CrossPackages.available && FileManager.default.fileExists(atPath: SharedSources.path + "/libbpf/src/libbpf.map"),
                CrossPackages.skipReason))
struct CrossSourceTreeTests {
    @Test func aLibbpfTreeIsCrossBuiltAndBpftoolIsBuiltForTheHost() throws {
        let layout = try CrossLayout("cross-trees", templates: [("tracer", "minimal")])
        try SharedSources.copyTree("libbpf", to: layout.base.path + "/libbpf")
        try SharedSources.copyTree("bpftool", to: layout.base.path + "/bpftool")
        let built = try layout.project.swbpf("build", "-v", "--arch", "arm64", "--static")
        #expect(built.status == 0, "\(built.output)")
        let make = try #require(built.stdout.lines.first { $0.hasPrefix("make -C ../../libbpf/src ") })
        #expect(make.contains(" CC=aarch64-linux-gnu-gcc "), "\(make)")
        let members = try runProcess("/usr/bin/readelf", ["-h", layout.project.url(".output/arm64/libbpf.a").path]).stdout
        #expect(members.contains("AArch64") && !members.contains("X86-64"), "libbpf.a is all arm64")
        let bpftool = try runProcess("/usr/bin/readelf", ["-h", layout.project.url(".output/arm64/bpftool/bootstrap/bpftool").path]).stdout
        #expect(bpftool.contains(TargetArch.host?.name == "x86" ? "X86-64" : "Machine"), "bpftool runs here: \(bpftool)")
        let run = try layout.qemu("arm64/tracer", sysroot: false)
        #expect(run.status == 0 && run.stdout.hasPrefix("Usage: ./arm64/tracer "), "\(run.output)")
    }
}
