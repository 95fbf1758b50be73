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

/// A toolchain as the planner sees it, with no process run.
package func fixedToolchain(vmlinux: VmlinuxSource = .btf(path: "/sys/kernel/btf/vmlinux", origin: .runningKernel),
                    libbpfInclude: String? = nil) -> Toolchain {
    func tool(_ role: ToolRole, _ path: String, _ version: String) -> Tool {
        Tool(role: role, displayName: role.rawValue, path: path, leadingArguments: [], version: version, fingerprint: "1:2:3")
    }
    return Toolchain(
        clang: tool(.clang, "/usr/bin/clang", "14.0.6"), bpftool: tool(.bpftool, "/usr/sbin/bpftool", "7.1.0"),
        cc: tool(.cc, "/usr/bin/cc", "12.2.0"),
        clangSystemIncludes: ["/usr/lib/llvm-14/lib/clang/14.0.6/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include"],
        libbpf: Libbpf(archive: "/usr/lib/x86_64-linux-gnu/libbpf.a", includeDirectory: libbpfInclude, origin: .pkgConfig),
        arch: "x86", vmlinux: vmlinux)
}

package func project(_ apps: [App], helpers: [String] = [], config: ProjectConfig = ProjectConfig()) -> Project {
    Project(root: "/work/p", config: config, configFile: nil, apps: apps, helperSources: helpers,
            localVmlinuxHeader: nil, notes: [])
}

package func simpleApp(_ name: String, helpers: [String] = []) -> App {
    App(name: name, bpfSources: ["\(name).bpf.c"], userSources: ["\(name).c"], helpers: helpers)
}

/// The fixed toolchain of PlannerTests with swiftc and printf, and two system libbpf headers.
package func swiftToolchain() -> Toolchain {
    var toolchain = fixedToolchain()
    func tool(_ role: ToolRole, _ path: String, _ version: String) -> Tool {
        Tool(role: role, displayName: role.rawValue, path: path, leadingArguments: [], version: version, fingerprint: "1:2:3")
    }
    toolchain.swift = SwiftTools(swiftc: tool(.swiftc, "/opt/swift/usr/bin/swiftc", "6.3.1"), printf: tool(.printf, "/usr/bin/printf", "9.1"),
                                 libbpfHeaders: ["/usr/include/bpf/bpf.h", "/usr/include/bpf/libbpf.h"])
    return toolchain
}

package func swiftApp(_ name: String, sources: [String]? = nil, sharedHeader: Bool = false) -> App {
    var app = App(name: name, bpfSources: ["\(name).bpf.c"], userSources: [], helpers: [])
    app.swiftSources = sources ?? ["\(name).swift"]
    app.sharedHeader = sharedHeader ? "\(name).h" : nil
    return app
}

/// A toolchain for arm64 as the resolver makes it on Debian with the cross packages.
package func arm64Toolchain(staticLink: Bool = false) -> Toolchain {
    let arm64Arch = TargetArch.named("arm64")!
    var toolchain = fixedToolchain(vmlinux: .header(path: "/vmlinux.h/include/aarch64/vmlinux.h",
                                                    origin: .vendored(directory: "../../vmlinux.h/include/aarch64")))
    toolchain.arch = "arm64"
    toolchain.cc = Tool(role: .cc, displayName: "aarch64-linux-gnu-gcc", path: "/usr/bin/aarch64-linux-gnu-gcc", leadingArguments: [],
                        version: "12.2.0", fingerprint: "1")
    toolchain.libbpf = Libbpf(archive: "/usr/lib/aarch64-linux-gnu/libbpf.a", includeDirectory: nil, origin: .systemLibraryDirectory)
    var selection = TargetSelection(name: "arm64", arch: arm64Arch, origin: .knob)
    selection.staticLink = staticLink
    selection.staticOrigin = staticLink ? "--static" : nil
    toolchain.target = Target(selection: selection, bpfTarget: Target.bpfTarget(for: selection),
                              bpfSystemIncludes: ["/usr/lib/llvm-14/lib/clang/14.0.6/include", "/usr/include/aarch64-linux-gnu", "/usr/include"],
                              compilerOrigin: "aarch64-linux-gnu-gcc on PATH",
                              libraries: staticLink ? ["-L/usr/lib/aarch64-linux-gnu", "-lelf", "-lz"] : ["-lelf", "-lz"],
                              librariesOrigin: staticLink ? "pkg-config --static --libs libelf" : "swbpf", expectedBinary: arm64Arch.elf)
    return toolchain
}
