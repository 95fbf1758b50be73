import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
@testable import SwbpfToolchain
@testable import SwbpfBuild
@testable import SwbpfKernel
@testable import SwbpfViews
@testable import SwbpfDriver
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

// Cross-building (ARCH=arm64 and the other libbpf-bootstrap targets) and static binaries: the
// target table and its resolution as pure logic, the ELF identity reader on real files, the plan
// for a target, and builds with the real clang, bpftool, aarch64-linux-gnu-gcc and qemu.

struct TargetArchTests {
    @Test func everySpellingNamesOneTargetAndUnknownOnesNone() {
        let cases = ["arm64": "arm64", "aarch64": "arm64", "riscv": "riscv", "riscv64": "riscv", "x86": "x86", "x86_64": "x86",
                     "amd64": "x86", "s390": "s390", "s390x": "s390", "powerpc": "powerpc", "ppc64le": "powerpc",
                     "loongarch": "loongarch", "loongarch64": "loongarch", "arm": "arm", "armhf": "arm"]
        for (spelling, name) in cases { #expect(TargetArch.named(spelling)?.name == name, "\(spelling)") }
        for bogus in ["bogus", "", "ARM64", "mips", "i686", "sparc64"] { #expect(TargetArch.named(bogus) == nil, "\(bogus)") }
        let names = TargetArch.all.flatMap(\.spellings)
        #expect(Set(names).count == names.count, "a spelling names two targets: \(names)")
    }

    @Test func theTableHoldsTheFactsEachTargetNeeds() throws {
        let arm64 = try #require(TargetArch.named("arm64"))
        #expect(arm64.triple == "aarch64-linux-gnu" && arm64.debian == "arm64" && arm64.byteOrder == .little)
        #expect(arm64.elf == ELFIdentity(machine: 183, bits: 64, byteOrder: .little))
        #expect(arm64.crossCompilerPackage == "gcc-aarch64-linux-gnu")
        #expect(arm64.libraryPackages == ["libbpf-dev:arm64", "libelf-dev:arm64", "zlib1g-dev:arm64"])
        #expect(arm64.vendoredDirectories == ["aarch64", "arm64"])
        let s390 = try #require(TargetArch.named("s390x"))
        #expect(s390.byteOrder == .big && s390.elf.machine == 22 && s390.triple == "s390x-linux-gnu")
        #expect(TargetArch.named("x86_64")?.crossCompilerPackage == "gcc-x86-64-linux-gnu")
        #expect(TargetArch.named("arm")?.elf.bits == 32)
    }

    @Test func theHostSpelledEitherWayIsTheHostBuild() throws {
        let host = try #require(TargetArch.host, "this machine is in the target table")
        for spelling in host.spellings {
            let selection = try TargetSelection.resolve(option: nil, environment: ["ARCH": spelling], config: ProjectConfig(), staticOption: false)
            #expect(selection.isHost && selection.subdirectory == nil && selection.name == hostTargetArch, "\(spelling)")
        }
        #expect(TargetSelection.host.isHost && TargetSelection.host.origin == .host)
    }

    @Test func theOptionWinsOverTheKnobWhichWinsOverSwbpfToml() throws {
        var config = try ProjectConfig.parse("output = \"out\"\narch = \"riscv64\"\nstatic = true\n", file: "swbpf.toml")
        #expect(config.archLine == 2 && config.staticLink)
        var selection = try TargetSelection.resolve(option: "aarch64", environment: ["ARCH": "s390x"], config: config, staticOption: false)
        #expect(selection.name == "arm64" && selection.origin == .option)
        selection = try TargetSelection.resolve(option: nil, environment: ["ARCH": "s390x"], config: config, staticOption: false)
        #expect(selection.name == "s390" && selection.origin == .knob)
        selection = try TargetSelection.resolve(option: nil, environment: [:], config: config, staticOption: false)
        #expect(selection.name == "riscv" && selection.origin == .config(line: 2) && selection.staticLink
                && selection.staticOrigin == "swbpf.toml static")
        selection = try TargetSelection.resolve(option: nil, environment: ["ARCH": ""], config: config, staticOption: true)
        #expect(selection.staticOrigin == "--static")
        config.arch = nil
        config.staticLink = false
        selection = try TargetSelection.resolve(option: nil, environment: [:], config: config, staticOption: false)
        #expect(selection.isHost && !selection.staticLink)
    }

    @Test func anUnknownArchIsRefusedWithWhereItCameFromAndTheList() throws {
        let config = try ProjectConfig.parse("\n\narch = \"sparc\"\n", file: "swbpf.toml")
        for (option, environment, origin) in [("mips", [:], "--arch"), (nil, ["ARCH": "bogus"], "ARCH"), (nil, [:], "swbpf.toml arch (line 3)")]
            as [(String?, [String: String], String)] {
            do {
                _ = try TargetSelection.resolve(option: option, environment: environment, config: config, staticOption: false)
                Issue.record("\(origin) was accepted")
            } catch let error as ConfigError {
                let diagnostic = error.diagnostic
                #expect(diagnostic.message.contains("(\(origin)) is not an architecture swbpf can build for"), "\(diagnostic.message)")
                #expect(diagnostic.help?.contains("arm64/aarch64") == true && diagnostic.help?.contains("s390/s390x") == true
                        && diagnostic.help?.contains("riscv/riscv64") == true, "\(diagnostic.help ?? "")")
            }
        }
        #expect(throws: ConfigError.self) { try ProjectConfig.parse("static = \"yes\"\n", file: "swbpf.toml") }
    }

    @Test func anotherTargetGetsItsOwnOutputAndBinaryDirectories() throws {
        var project = Project(root: "/p", config: ProjectConfig(), configFile: nil, apps: [], helperSources: [], localVmlinuxHeader: nil, notes: [])
        #expect(project.outputDirectory == ".output" && project.binaryDirectory == ".")
        try project.selectTarget(option: nil, environment: ["ARCH": "aarch64"], staticOption: false)
        #expect(project.outputDirectory == ".output/arm64" && project.binaryDirectory == "arm64")
        project.config.output = "build"
        project.config.binaryDirectory = "bin"
        #expect(project.outputDirectory == "build/arm64" && project.binaryDirectory == "bin/arm64")
        try project.selectTarget(option: hostTargetArch, environment: [:], staticOption: true)
        #expect(project.outputDirectory == "build" && project.binaryDirectory == "bin")
    }
}

struct TargetPlanTests {
    static let arm64 = TargetArch.named("arm64")!

    static func project(for target: TargetSelection) -> Project {
        var project = SwbpfTestSupport.project([simpleApp("minimal")])
        project.target = target
        return project
    }

    @Test func theHostPlanKeepsTodaysFlags() throws {
        let plan = try Planner(project: SwbpfTestSupport.project([simpleApp("minimal")]), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        let bpf = try #require(plan.steps.first { $0.kind == .bpfCompile })
        #expect(Array(bpf.displayCommand.prefix(6)) == ["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86"])
        let link = try #require(plan.steps.first { $0.kind == .link })
        #expect(link.postcondition == nil && !link.displayCommand.contains("-static"))
        #expect(Array(link.displayCommand.suffix(4)) == ["-lelf", "-lz", "-o", link.primaryOutput])
    }

    @Test func anArm64PlanCompilesLinksAndChecksForArm64() throws {
        let selection = arm64Toolchain().target.selection
        let plan = try Planner(project: Self.project(for: selection), toolchain: arm64Toolchain(), settings: BuildSettings()).plan()
        let bpf = try #require(plan.steps.first { $0.kind == .bpfCompile })
        let words = bpf.displayCommand
        #expect(Array(words.prefix(6)) == ["clang", "-g", "-O2", "-target", "bpfel", "-D__TARGET_ARCH_arm64"])
        #expect(words.contains("/usr/include/aarch64-linux-gnu") && !words.contains("/usr/include/x86_64-linux-gnu"))
        #expect(bpf.primaryOutput.hasPrefix(".output/arm64/"), "\(bpf.primaryOutput)")
        let compile = try #require(plan.steps.first { $0.kind == .compile })
        #expect(compile.displayCommand.first == "aarch64-linux-gnu-gcc")
        let link = try #require(plan.steps.first { $0.kind == .link })
        #expect(link.displayCommand.first == "aarch64-linux-gnu-gcc" && link.primaryOutput.hasPrefix("arm64/"))
        #expect(link.displayCommand.contains("/usr/lib/aarch64-linux-gnu/libbpf.a"))
        #expect(link.postcondition == .elf(Self.arm64.elf))
        #expect(plan.outputDirectory == ".output/arm64")
    }

    @Test func aStaticLinkNamesPkgConfigsLibrariesAndSaysWhereTheyCameFrom() throws {
        let toolchain = arm64Toolchain(staticLink: true)
        let plan = try Planner(project: Self.project(for: toolchain.target.selection), toolchain: toolchain, settings: BuildSettings()).plan()
        let link = try #require(plan.steps.first { $0.kind == .link })
        #expect(Array(link.displayCommand.suffix(6)) == ["-L/usr/lib/aarch64-linux-gnu", "-lelf", "-lz", "-static", "-o", link.primaryOutput])
        #expect(link.groups.contains { $0.role == .systemLibraries && $0.origin == .target("pkg-config --static --libs libelf") })
        #expect(link.groups.contains { $0.arguments == [.flag("-static")] && $0.origin == .target("--static") })
        let explanation = Explainer(toolchain: toolchain, root: "/p").explain(link)
        let staticItem = explanation.groups.flatMap(\.items).first { $0.words == ["-static"] }
        #expect(staticItem?.meaning.contains("fully static binary") == true && staticItem?.meaning.contains("--static") == true)
        #expect(explanation.notes.contains { $0.contains("checked after the link to be an ELF file for aarch64 (ELF64, little-endian)") })
    }

    @Test func explainSaysWhereEachTargetWordComesFrom() throws {
        let toolchain = arm64Toolchain()
        let plan = try Planner(project: Self.project(for: toolchain.target.selection), toolchain: toolchain, settings: BuildSettings()).plan()
        let bpf = try #require(plan.steps.first { $0.kind == .bpfCompile })
        let items = Explainer(toolchain: toolchain, root: "/p").explain(bpf).groups.flatMap(\.items)
        func meaning(_ words: [String]) -> String { items.first { $0.words == words }?.meaning ?? "" }
        #expect(meaning(["-target", "bpfel"]).contains("little-endian") && meaning(["-target", "bpfel"]).contains("(from ARCH=arm64)"))
        #expect(meaning(["-D__TARGET_ARCH_arm64"]).contains("(from ARCH=arm64)"))
        #expect(meaning(["-idirafter", "/usr/include/aarch64-linux-gnu"]).contains("linux-libc-dev:arm64"))
    }

    @Test func aLibbpfTreeIsBuiltWithTheTargetsCompiler() throws {
        var toolchain = arm64Toolchain()
        toolchain.make = Tool(role: .make, displayName: "make", path: "/usr/bin/make", leadingArguments: [], version: "4.3", fingerprint: "1")
        toolchain.libbpf = Libbpf(archive: "/p/.output/arm64/libbpf.a", includeDirectory: "/p/.output/arm64",
                                  origin: .sourceTree(display: "../../libbpf", chosenBy: .convention), version: "1.6.0",
                                  uapiIncludeDirectory: "../../libbpf/include/uapi",
                                  sourceBuild: LibbpfSourceBuild(tree: "/libbpf", display: "../../libbpf", headers: ["libbpf.h"]))
        let plan = try Planner(project: Self.project(for: toolchain.target.selection), toolchain: toolchain, settings: BuildSettings()).plan()
        let libbpf = try #require(plan.steps.first { $0.kind == .libbpf })
        #expect(libbpf.displayCommand.contains("CC=aarch64-linux-gnu-gcc"), "\(libbpf.displayCommand)")
        var knob = BuildSettings()
        knob.makeCompiler = "ccache aarch64-linux-gnu-gcc"
        let withKnob = try Planner(project: Self.project(for: toolchain.target.selection), toolchain: toolchain, settings: knob).plan()
        #expect(withKnob.steps.first { $0.kind == .libbpf }?.displayCommand.contains("CC=ccache aarch64-linux-gnu-gcc") == true)
    }

    @Test func staticLibrariesComeFromPkgConfigWithoutRepeats() {
        let parsed = ToolchainResolver.staticLibraries(answer: ["-L/usr/lib/aarch64-linux-gnu -lelf -L/usr/lib/aarch64-linux-gnu -L/usr/lib/aarch64-linux-gnu -lz"])
        #expect(parsed.words == ["-L/usr/lib/aarch64-linux-gnu", "-lelf", "-lz"] && parsed.origin == "pkg-config --static --libs libelf")
        let fallback = ToolchainResolver.staticLibraries(answer: [""])
        #expect(fallback.words == ["-lelf", "-lz"] && fallback.origin.contains("pkg-config has no libelf"))
    }

    @Test func aBigEndianTargetNeedsABpftoolWhoseLibbpfReadsIt() throws {
        var project = SwbpfTestSupport.project([simpleApp("minimal")])
        project.target = TargetSelection(name: "s390", arch: TargetArch.named("s390"), origin: .knob)
        let resolver = ToolchainResolver(project: project, environment: [:])
        let bpftool = ToolchainResolver.BpftoolChoice.program(fixedToolchain().bpftool)
        #expect(throws: ToolchainError.crossEndianBpftool(arch: "s390", byteOrder: .big, bpftool: "bpftool 7.1.0 (/usr/sbin/bpftool)", libbpf: "1.1")) {
            try resolver.checkByteOrder(bpftool: bpftool, answer: ["7.1.0", "1.1"])
        }
        #expect(throws: ToolchainError.self) { try resolver.checkByteOrder(bpftool: bpftool, answer: ["7.1.0"]) }
        try resolver.checkByteOrder(bpftool: bpftool, answer: ["7.5.0", "1.5"])
        try resolver.checkByteOrder(bpftool: bpftool, answer: ["7.6.0", "1.6"])
        // A little-endian target never asks.
        project.target = TargetSelection(name: "arm64", arch: Self.arm64, origin: .knob)
        try ToolchainResolver(project: project, environment: [:]).checkByteOrder(bpftool: bpftool, answer: ["7.1.0", "1.1"])
    }
}
