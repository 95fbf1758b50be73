import Foundation
import Testing
@testable import SwbpfBasics
@testable import SwbpfModel
import SwbpfTestSupport

@Suite struct PlannerTests {
    @Test func kprobeStepsHaveTheExactMakefileCommands() throws {
        var kprobe = simpleApp("kprobe")
        kprobe.vmlinuxFirstSources = ["kprobe.bpf.c"]
        let plan = try Planner(project: project([kprobe]), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        let systemIncludes = "-idirafter /usr/lib/llvm-14/lib/clang/14.0.6/include -idirafter /usr/local/include -idirafter /usr/include/x86_64-linux-gnu -idirafter /usr/include"
        let bpfFlags = "-g -O2 -target bpf -D__TARGET_ARCH_x86 -ffile-prefix-map=/work/p=. -I.output \(systemIncludes)"
        #expect(plan.steps.map(\.shellCommand) == [
            "bpftool btf dump file /sys/kernel/btf/vmlinux format c > .output/vmlinux.h",
            "clang \(bpfFlags) -Xclang -fno-pch-timestamp -x c-header .output/vmlinux.h -o .output/vmlinux.h.pch",
            "clang \(bpfFlags) -include-pch .output/vmlinux.h.pch -c kprobe.bpf.c -o .output/kprobe.tmp.bpf.o",
            "bpftool gen object .output/kprobe.bpf.o .output/kprobe.tmp.bpf.o",
            "bpftool gen skeleton .output/kprobe.bpf.o > .output/kprobe.skel.h",
            "cc -g -Wall -ffile-prefix-map=/work/p=. -I.output -c kprobe.c -o .output/kprobe.o",
            "cc -g -Wall .output/kprobe.o /usr/lib/x86_64-linux-gnu/libbpf.a -lelf -lz -o kprobe",
        ])
        #expect(plan.steps.map(\.kind.label) == ["VMLINUX", "PCH", "BPF", "GEN-OBJ", "GEN-SKEL", "CC", "BINARY"])
        #expect(plan.steps.map(\.dependencies) == [[], [0], [0, 1], [2], [3], [4], [5]])
    }

    /// swbpf.toml's `vmlinux = "../vmlinux/{arch}/vmlinux.h"` (as `swbpf init` writes from a starter
    /// template's VMLINUX) is named with `..`, as make and the discovered layout name it, not by
    /// the checkout's absolute path; a header under the project or sharing only `/` keeps its form.
    @Test func aConfiguredVmlinuxOutsideTheProjectIsNamedFromIt() {
        let header = { (path: String) in VmlinuxSource.header(path: path, origin: .config) }
        #expect(header("/work/top/vmlinux/x86/vmlinux.h").includeDirectory(root: "/work/top/src") == "../vmlinux/x86")
        #expect(header("/work/top/src/inc/vmlinux.h").includeDirectory(root: "/work/top/src") == "inc")
        #expect(header("/opt/btf/vmlinux.h").includeDirectory(root: "/work/top/src") == "/opt/btf")
        #expect(VmlinuxSource.header(path: "/work/top/v/vmlinux.h", origin: .knob).includeDirectory(root: "/work/top/src") == "/work/top/v")
        #expect(FileSystem.relativeWithParents("/a/b", to: "/a/b") == ".")
        #expect(FileSystem.relativeWithParents("/a/b/c/d", to: "/a/x/y") == "../../b/c/d")
    }

    @Test func onlySourcesThatIncludeVmlinuxFirstUseThePCHAndOtherFlagsGetTheirOwn() throws {
        var first = simpleApp("first"), other = simpleApp("other"), minimal = simpleApp("minimal"), flagged = simpleApp("flagged")
        first.vmlinuxFirstSources = ["first.bpf.c"]
        other.vmlinuxFirstSources = ["other.bpf.c"]
        flagged.vmlinuxFirstSources = ["flagged.bpf.c"]
        flagged.bpfCflags = ["-DFLAG"]
        let plan = try Planner(project: project([first, flagged, minimal, other]), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        let pchOf = { (app: String) in
            plan.steps.first { $0.kind == .bpfCompile && $0.app == app }?.groups.first { $0.role == .precompiledHeader }?
                .arguments.compactMap(\.pathAndUse?.path).first
        }
        #expect(plan.steps.filter { $0.kind == .precompiledHeader }.map(\.primaryOutput) == [".output/vmlinux.h.pch", ".output/flagged.vmlinux.h.pch"])
        #expect(pchOf("first") == ".output/vmlinux.h.pch" && pchOf("other") == ".output/vmlinux.h.pch")
        #expect(pchOf("flagged") == ".output/flagged.vmlinux.h.pch" && pchOf("minimal") == nil)
        let flaggedPCH = try #require(plan.steps.first { $0.primaryOutput == ".output/flagged.vmlinux.h.pch" })
        #expect(flaggedPCH.displayCommand.contains("-DFLAG"))
    }

    @Test func aGivenOrVendoredVmlinuxIsPrecompiledUnlessASourceFindsAnotherFirst() throws {
        var first = simpleApp("first"), beside = App(name: "beside", bpfSources: ["sub/beside.bpf.c"], userSources: ["beside.c"], helpers: [])
        first.vmlinuxFirstSources = ["first.bpf.c"]
        beside.vmlinuxFirstSources = ["sub/beside.bpf.c"]
        // sub/ has a vmlinux.h of its own, which `#include "vmlinux.h"` finds before any -I.
        beside.vmlinuxBesideSources = ["sub/beside.bpf.c"]
        for (header, origin) in [("/work/vmlinux.h/include/x86/vmlinux.h", VmlinuxOrigin.vendored(directory: "../vmlinux.h/include/x86")),
                                 ("/work/p/v/vmlinux.h", .knob)] {
            let plan = try Planner(project: project([first, beside]), toolchain: fixedToolchain(vmlinux: .header(path: header, origin: origin)),
                                   settings: BuildSettings()).plan()
            let pch = try #require(plan.steps.first { $0.kind == .precompiledHeader }, "no PCH for \(origin)")
            #expect(pch.inputs == [FileSystem.display(header, relativeTo: "/work/p")] && pch.dependencies.isEmpty,
                    "a header there before the build: the PCH can start at once")
            let loads = plan.steps.filter { $0.kind == .bpfCompile && !$0.precompiledHeaders.isEmpty }.compactMap(\.app)
            #expect(loads == ["first"], "\(origin)")
        }
        // The header beside the source is the one it finds: precompiled for it.
        var own = simpleApp("own")
        own.vmlinuxFirstSources = ["own.bpf.c"]
        own.vmlinuxBesideSources = ["own.bpf.c"]
        let local = try Planner(project: project([own]), toolchain: fixedToolchain(vmlinux: .header(path: "/work/p/vmlinux.h", origin: .projectDirectory)),
                                settings: BuildSettings()).plan()
        #expect(local.steps.first { $0.kind == .bpfCompile }?.precompiledHeaders == [".output/vmlinux.h.pch"])
    }

    @Test func executedArgumentsWriteTemporariesAndDepfiles() throws {
        let plan = try Planner(project: project([simpleApp("kprobe")]), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        let compile = plan.steps[4]
        let pid = getpid()
        #expect(compile.executedArguments == ["-g", "-Wall", "-ffile-prefix-map=/work/p=.", "-I.output", "-c", "kprobe.c", "-o", ".output/.kprobe.o.\(pid).swbpf-tmp",
                                              "-MD", "-MF", ".output/.kprobe.d.\(pid).swbpf-tmp"])
        #expect(plan.steps[3].standardOutput == ".output/kprobe.skel.h")
        #expect(plan.steps[3].executedArguments == ["gen", "skeleton", ".output/kprobe.bpf.o"])
    }

    @Test func knobsAndConfigFlagsLandWhereTheMakefilePutsThem() throws {
        var config = ProjectConfig()
        config.cflags = ["-DPROJECT"]
        config.bpfCflags = ["-DBPF_PROJECT"]
        config.ldflags = ["-static-libgcc"]
        config.libs = ["pthread"]
        config.includeDirectories = ["vmlinux/{arch}", "include"]
        var app = simpleApp("tool", helpers: ["trace_helpers.c"])
        app.cflags = ["-DAPP"]
        app.bpfCflags = ["-DBPF_APP"]
        app.libs = ["rt"]
        app.userSources.append("extra.c")
        app.kernelParts[0].sources.append("more.bpf.c")
        var settings = BuildSettings(environment: ["CFLAGS": "-O2 -g", "LDFLAGS": "-L/opt/lib", "EXTRA_LDFLAGS": "-Wl,--as-needed"])
        settings.cflags = ["-O2", "-g"]
        let plan = try Planner(project: project([app], helpers: ["trace_helpers.c"], config: config),
                               toolchain: fixedToolchain(vmlinux: .header(path: "/work/p/vmlinux/x86/vmlinux.h", origin: .config),
                                                         libbpfInclude: "/opt/libbpf/include"),
                               settings: settings).plan()
        let commands = plan.steps.map(\.shellCommand)
        let includes = "-I.output -I/opt/libbpf/include -Ivmlinux/x86 -Iinclude"
        let system = "-idirafter /usr/lib/llvm-14/lib/clang/14.0.6/include -idirafter /usr/local/include -idirafter /usr/include/x86_64-linux-gnu -idirafter /usr/include"
        #expect(commands == [
            "cc -O2 -g -ffile-prefix-map=/work/p=. \(includes) -DPROJECT -c trace_helpers.c -o .output/trace_helpers.o",
            "clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -ffile-prefix-map=/work/p=. -DBPF_PROJECT -DBPF_APP \(includes) \(system) -c tool.bpf.c -o .output/tool.tmp.bpf.o",
            "clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -ffile-prefix-map=/work/p=. -DBPF_PROJECT -DBPF_APP \(includes) \(system) -c more.bpf.c -o .output/tool.more.tmp.bpf.o",
            "bpftool gen object .output/tool.bpf.o .output/tool.tmp.bpf.o .output/tool.more.tmp.bpf.o",
            "bpftool gen skeleton .output/tool.bpf.o > .output/tool.skel.h",
            "cc -O2 -g -ffile-prefix-map=/work/p=. \(includes) -DPROJECT -DAPP -c tool.c -o .output/tool.o",
            "cc -O2 -g -ffile-prefix-map=/work/p=. \(includes) -DPROJECT -DAPP -c extra.c -o .output/tool.extra.o",
            "cc -O2 -g .output/tool.o .output/tool.extra.o .output/trace_helpers.o /usr/lib/x86_64-linux-gnu/libbpf.a -L/opt/lib -Wl,--as-needed -static-libgcc -lpthread -lrt -lelf -lz -o tool",
        ])
    }

    @Test func hyphenatedNamesAndQuotedPaths() throws {
        var config = ProjectConfig()
        config.output = "build out"
        let plan = try Planner(project: project([simpleApp("xdp-counter")], config: config), toolchain: fixedToolchain(),
                               settings: BuildSettings()).plan()
        #expect(plan.steps[3].shellCommand == "bpftool gen skeleton 'build out/xdp-counter.bpf.o' > 'build out/xdp-counter.skel.h'")
        #expect(plan.steps.last!.shellCommand.hasSuffix("-lelf -lz -o xdp-counter"))
        #expect(simpleApp("xdp-counter").skeletonName == "xdp_counter_bpf")
    }

    @Test func sharedHelperIsCompiledOnceAndLinkedIntoEachApp() throws {
        let plan = try Planner(project: project([simpleApp("a", helpers: ["util.c"]), simpleApp("b", helpers: ["util.c"])],
                                                helpers: ["util.c"]),
                               toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        #expect(plan.steps.filter { $0.primaryOutput == ".output/util.o" }.count == 1)
        let links = plan.steps.filter { $0.kind == .link }
        #expect(links.allSatisfy { $0.inputs.contains(".output/util.o") })
        #expect(plan.steps(for: ["a"]).contains { $0.primaryOutput == ".output/util.o" })
        #expect(!plan.steps(for: ["a"]).contains { $0.app == "b" })
    }

    @Test func userHeaderSkipsTheVmlinuxStep() throws {
        let plan = try Planner(project: project([simpleApp("m")]),
                               toolchain: fixedToolchain(vmlinux: .header(path: "/work/p/vmlinux.h", origin: .projectDirectory)),
                               settings: BuildSettings()).plan()
        #expect(!plan.steps.contains { $0.kind == .vmlinux })
        #expect(plan.steps[0].displayCommand.contains("-I."))
    }

    @Test func btfForPlansOneMinCoreBTFStepPerKernelInTheAppsSteps() throws {
        var app = simpleApp("rb")
        app.btfFor = ["6.1", "/k/5.4.0-1009-aws.btf", "unresolved"]
        var config = ProjectConfig()
        config.apps["rb"] = ProjectConfig.AppConfig()
        config.apps["rb"]?.btfFor = ["6.1"]
        let kernels = ["6.1": KernelBTF(name: "6.1", btf: "/cache/kernels/d1/btf", release: "6.1.0-57-cloud-amd64"),
                       "/k/5.4.0-1009-aws.btf": KernelBTF(name: "/k/5.4.0-1009-aws.btf", btf: "/cache/kernels/d2/btf", release: "5.4.0-1009-aws")]
        let plan = try Planner(project: project([app], config: config), toolchain: fixedToolchain(), settings: BuildSettings(),
                               kernelBTFs: kernels).plan()
        let btf = plan.steps.filter { $0.kind == .minCoreBTF }
        #expect(btf.map(\.shellCommand) == [
            "bpftool gen min_core_btf /cache/kernels/d1/btf .output/btf/rb/6.1.0-57-cloud-amd64.btf .output/rb.bpf.o",
            "bpftool gen min_core_btf /cache/kernels/d2/btf .output/btf/rb/5.4.0-1009-aws.btf .output/rb.bpf.o",
        ])
        #expect(btf.map(\.kind.label) == ["BTFGEN", "BTFGEN"])
        // After the linked object, and part of the app: a build of rb makes them, clean removes them.
        let link = try #require(plan.steps.first { $0.kind == .bpfLink })
        #expect(btf.allSatisfy { $0.dependencies == [link.id] && plan.appSteps["rb"]?.contains($0.id) == true })
        #expect(btf.map { $0.groups[1].origin } == [.appConfig(app: "rb", key: "btf-for"), .commandLine("--kernel")])
        #expect(btf.map(\.inputs) == [["/cache/kernels/d1/btf", ".output/rb.bpf.o"], ["/cache/kernels/d2/btf", ".output/rb.bpf.o"]])
    }

    @Test func aKernelsReleaseComesFromItsVersionStringElseItsFileName() {
        #expect(KernelBTF.release(version: "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP", file: "6.1") == "6.1.0-57-cloud-amd64")
        #expect(KernelBTF.release(version: nil, file: "/btfhub/5.4.0-1009-aws.btf") == "5.4.0-1009-aws")
        #expect(KernelBTF.release(version: nil, file: "vmlinux-5.15.0-91-generic") == "5.15.0-91-generic")
        #expect(KernelBTF.release(version: nil, file: "/boot/vmlinux") == nil)
        #expect(KernelBTF.release(version: nil, file: "/k/.btf") == nil)
    }

    @Test func twoSourcesWithOneObjectNameAreRefused() throws {
        #expect(throws: PlanError.self) {
            try Planner(project: project([simpleApp("a")], helpers: ["a.c"]), toolchain: fixedToolchain(), settings: BuildSettings()).plan()
        }
    }
}

@Suite struct ArchTests {
    @Test func makefileMapping() {
        let cases = ["x86_64": "x86", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "powerpc", "mips64": "mips",
                     "riscv64": "riscv", "loongarch64": "loongarch", "s390x": "s390"]
        for (machine, arch) in cases { #expect(Arch.bpfArch(forMachine: machine) == arch) }
    }
}
