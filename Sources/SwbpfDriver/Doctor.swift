import FoundationEssentials
import SwbpfBasics
import SwbpfKernel
import SwbpfModel
import SwbpfToolchain
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf doctor`: checks the toolchain and asks the kernel what it allows, one line per check.
/// The kernel's program kinds come from loading (and where it changes nothing else, attaching)
/// a tiny program of each kind through swbpf's loader, built for the occasion in a temporary
/// directory; in a project, the apps whose programs this kernel cannot run are named.
public enum Doctor {
    public struct Check: Sendable, Codable, Equatable {
        public var section: String
        public var name: String
        public var ok: Bool
        /// A failure here makes the exit status non-zero.
        public var required: Bool
        public var detail: String
        public var fix: String?
    }

    public struct KernelKind: Sendable, Codable, Equatable {
        public var kind: ProgramKind
        public var title: String
        public var loads: Bool
        public var loadError: String?
        public var loadErrno: Int32
        /// "ok", "failed" or "not tried".
        public var attach: String
        public var attachError: String?
        public var target: String?
        public var summary: String
    }

    public struct AppNeeds: Sendable, Codable, Equatable {
        public var name: String
        /// The app's program sections, each with the kind it is (nil: not one doctor probes).
        public var sections: [String]
        public var problems: [String]
        /// Some of its programs cannot load or attach here.
        public var affected: Bool
        /// `Linux ≥ 5.8 (BPF_MAP_TYPE_RINGBUF, ...)`: the quick answer from its built objects; nil
        /// before a build.
        public var minimumKernel: String?

        package init(name: String, sections: [String], problems: [String], minimumKernel: String? = nil) {
            self.name = name
            self.sections = sections
            self.problems = problems
            self.minimumKernel = minimumKernel
            affected = !problems.isEmpty
        }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var kernelRelease: String
        public var checks: [Check]
        public var kinds: [KernelKind]
        public var project: String?
        public var apps: [AppNeeds]
        /// Nothing required is missing and every app can run: exit status 0.
        public var ok: Bool

        package init(kernelRelease: String, checks: [Check], kinds: [KernelKind], project: String?, apps: [AppNeeds]) {
            self.kernelRelease = kernelRelease
            self.checks = checks
            self.kinds = kinds
            self.project = project
            self.apps = apps
            ok = checks.allSatisfy { $0.ok || !$0.required } && apps.allSatisfy { !$0.affected }
        }
    }

    /// `arch` is `--arch`; ARCH and swbpf.toml's arch name a target too. For a target other than
    /// this machine, its cross toolchain is checked as well.
    public static func run(directory: String, environment: [String: String], arch: String? = nil) async -> Report {
        var checks: [Check] = []
        let root = FileSystem.absolute(directory, base: FileSystem.currentDirectory())
        var project: Project?
        do {
            project = try ProjectLoader.load(directory: root)
        } catch ProjectError.noApps {
            project = nil
        } catch {
            checks.append(Check(section: "project", name: "project", ok: false, required: true,
                                detail: Diagnostic(of: error).message, fix: Diagnostic(of: error).help))
        }
        let resolver = resolver(project: project, root: root, environment: environment)
        checks.append(await clangCheck(resolver))
        checks.append(await bpftoolCheck(resolver))
        let cc = await ccCheck(resolver)
        checks.append(cc.check)
        let libbpf = await libbpfCheck(resolver)
        checks.append(libbpf.check)
        if let tool = cc.tool {
            checks += await libraryChecks(tool)
            let settings = BuildSettings(environment: environment)
            let installed = Dictionary(uniqueKeysWithValues: alternativeLinkers.compactMap { name in resolver.onPath("ld." + name).map { (name, $0) } })
            checks.append(linkerCheck(linkFlags: settings.ldflags + settings.extraLdflags + (project?.config.ldflags ?? []), installed: installed))
        }
        checks += await targetChecks(resolver, arch: arch)
        checks += kernelChecks(resolver)

        var features: KernelFeatures?
        var probeNote: String?
        if let tool = cc.tool, let library = libbpf.libbpf {
            do {
                features = try await probeKernel(cc: tool, libbpf: library, temporaryDirectory: environment["TMPDIR"] ?? "/tmp")
            } catch {
                probeNote = Diagnostic(of: error).message
            }
        } else {
            probeNote = "swbpf's loader needs cc and libbpf, which are missing"
        }
        if let probeNote {
            checks.append(Check(section: "kernel", name: "program kinds", ok: false, required: false,
                                detail: "could not ask the kernel which program kinds it allows: \(probeNote)",
                                fix: "install cc and libbpf (apt-get install gcc libbpf-dev libelf-dev zlib1g-dev)"))
        }
        let kinds = features.map(kernelKinds) ?? []
        let mapsOK = features?.maps["ringbuf"] == 0
        if let features {
            checks.append(Check(section: "kernel", name: "ring buffer", ok: mapsOK, required: false,
                                detail: mapsOK ? "BPF ring buffers (BPF_MAP_TYPE_RINGBUF)" : "no BPF ring buffers: \(Errno.describe(features.maps["ringbuf"] ?? EINVAL))",
                                fix: mapsOK ? nil : "Linux 5.8 or later"))
        }
        var uname = utsname()
        Glibc.uname(&uname)
        let release = withUnsafeBytes(of: uname.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let apps = (project?.apps ?? []).filter { !$0.isProgram }.map { app in
            var needs = appNeeds(app, root: root, features: features)
            if let project { needs.add(MinimumKernel.of(app: app.name, objects: MinimumKernel.objects(of: app, in: project), root: root),
                                       running: KernelVersion(parsing: release)) }
            return needs
        }
        let machine = withUnsafeBytes(of: uname.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Report(kernelRelease: "Linux \(release) \(machine)", checks: checks, kinds: kinds,
                      project: project.map { _ in root }, apps: apps)
    }

    /// Why the named app's programs cannot load or attach on this kernel, as doctor says it: empty
    /// when they can, or when the kernel could not be asked. `swbpf run` adds it after an app fails.
    public static func problems(of appName: String, directory: String, environment: [String: String]) async -> [String] {
        let root = FileSystem.absolute(directory, base: FileSystem.currentDirectory())
        guard let project = try? ProjectLoader.load(directory: root), let app = project.apps.first(where: { $0.name == appName }) else { return [] }
        let resolver = resolver(project: project, root: root, environment: environment)
        guard let tool = await ccCheck(resolver).tool, let library = await libbpfCheck(resolver).libbpf,
              let features = try? await probeKernel(cc: tool, libbpf: library, temporaryDirectory: environment["TMPDIR"] ?? "/tmp")
        else { return [] }
        return appNeeds(app, root: root, features: features).problems
    }

    // MARK: Toolchain

    /// The toolchain a build in `root` resolves: the project's own choices where there is one.
    package static func resolver(project: Project?, root: String, environment: [String: String]) -> ToolchainResolver {
        ToolchainResolver(project: project ?? Project(root: root, config: ProjectConfig(), configFile: nil, apps: [],
                                                      helperSources: [], localVmlinuxHeader: nil, notes: []),
                          environment: environment)
    }

    /// The clang, bpftool and libbpf a build in `directory` would use, as doctor checks them: what
    /// `swbpf --version` shows beside its own version.
    public static func buildTools(directory: String, environment: [String: String]) async -> [Check] {
        let root = FileSystem.absolute(directory, base: FileSystem.currentDirectory())
        let resolver = resolver(project: try? ProjectLoader.load(directory: root), root: root, environment: environment)
        return [await clangCheck(resolver), await bpftoolCheck(resolver), await libbpfCheck(resolver).check]
    }

    package static func clangCheck(_ resolver: ToolchainResolver) async -> Check {
        do {
            let tool = try resolver.locate(.clang)
            let facts = try await ToolchainResolver.probeClang(tool)
            let hasBPF = facts.count > 1 && facts[1] == "bpf"
            return Check(section: "toolchain", name: "clang", ok: hasBPF, required: true,
                         detail: "clang \(facts.first ?? "?") (\(tool.path))" + (hasBPF ? " with the BPF target" : " without the BPF target"),
                         fix: hasBPF ? nil : "apt-get install clang llvm (Debian's clang has the BPF target), or set CLANG to one that does")
        } catch {
            return missing("toolchain", "clang", error, fix: "apt-get install clang llvm")
        }
    }

    package static func bpftoolCheck(_ resolver: ToolchainResolver) async -> Check {
        do {
            let tool = try resolver.locate(.bpftool)
            let outcome = try await capture(tool.path, tool.leadingArguments + ["version"])
            let lines = String(decoding: outcome.standardOutput, as: UTF8.self).split(separator: "\n")
            guard outcome.status == 0, let first = lines.first else {
                return Check(section: "toolchain", name: "bpftool", ok: false, required: true,
                             detail: "\(tool.path) version failed: \(String(decoding: outcome.standardError, as: UTF8.self).trimmed())",
                             fix: "apt-get install --reinstall bpftool")
            }
            let libbpf = lines.first { $0.hasPrefix("using libbpf ") }.map { String($0.dropFirst("using libbpf ".count)) }
            return Check(section: "toolchain", name: "bpftool", ok: true, required: true,
                         detail: "bpftool \(ToolchainResolver.versionWord(String(first))) (\(tool.path))"
                            + (libbpf.map { ", built with libbpf \($0.hasPrefix("v") ? String($0.dropFirst()) : $0)" } ?? ""))
        } catch {
            return missing("toolchain", "bpftool", error, fix: "apt-get install bpftool")
        }
    }

    package static func ccCheck(_ resolver: ToolchainResolver) async -> (check: Check, tool: Tool?) {
        do {
            let tool = try resolver.locate(.cc)
            let version = try await ToolchainResolver.probeVersion(tool, arguments: ["--version"])
            return (Check(section: "toolchain", name: "cc", ok: true, required: true,
                          detail: "cc \(version.first ?? "?") (\(tool.path))"), tool)
        } catch {
            return (missing("toolchain", "cc", error, fix: "apt-get install gcc"), nil)
        }
    }

    package static func libbpfCheck(_ resolver: ToolchainResolver) async -> (check: Check, libbpf: Libbpf?) {
        var answer: [String]?
        if resolver.needsPkgConfig, let tool = resolver.pkgConfigTool() {
            let libdir = try? await capture(tool.path, ["--variable=libdir", "libbpf"])
            let includedir = try? await capture(tool.path, ["--variable=includedir", "libbpf"])
            if let libdir, let includedir, libdir.status == 0, includedir.status == 0 {
                answer = [libdir, includedir].map { String(decoding: $0.standardOutput, as: UTF8.self).trimmed() }
            }
        }
        do {
            let libbpf = try resolver.libbpf(pkgConfigAnswer: answer)
            let headers = libbpf.includeDirectory ?? "/usr/include"
            let version = libbpf.version ?? headerVersion(FileSystem.join(headers, "bpf/libbpf_version.h"))
            let directory = FileSystem.split(libbpf.archive).directory
            let sourceTree = FileSystem.exists(FileSystem.join(directory, "libbpf.c")) ? ", a source tree" : ""
            return (Check(section: "toolchain", name: "libbpf", ok: version != nil, required: true,
                          detail: "libbpf \(version ?? "of unknown version") (\(libbpf.archive), from \(libbpf.origin)\(sourceTree); headers in \(headers))",
                          fix: version == nil ? "libbpf's headers are missing: apt-get install libbpf-dev" : nil), libbpf)
        } catch {
            return (missing("toolchain", "libbpf", error, fix: "apt-get install libbpf-dev, or set LIBBPF_OBJ to a libbpf.a"), nil)
        }
    }

    /// `1.1` from libbpf_version.h's LIBBPF_MAJOR_VERSION and LIBBPF_MINOR_VERSION.
    package static func headerVersion(_ path: String) -> String? {
        guard let text = FileSystem.readText(path) else { return nil }
        func value(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }.map { String($0.dropFirst("#define \(name) ".count)).trimmed() }
        }
        guard let major = value("LIBBPF_MAJOR_VERSION"), let minor = value("LIBBPF_MINOR_VERSION") else { return nil }
        return "\(major).\(minor)"
    }

    /// libelf and zlib, which libbpf.a needs at link time, as the compiler finds them.
    package static func libraryChecks(_ cc: Tool) async -> [Check] {
        var checks: [Check] = []
        for (name, file, package) in [("libelf", "elf", "libelf-dev"), ("zlib", "z", "zlib1g-dev")] {
            var found: String?
            for candidate in ["lib\(file).so", "lib\(file).a"] {
                let outcome = try? await capture(cc.path, cc.leadingArguments + ["-print-file-name=\(candidate)"])
                let path = outcome.map { String(decoding: $0.standardOutput, as: UTF8.self).trimmed() } ?? ""
                if path.contains("/") { found = FileSystem.normalize(path); break }
            }
            checks.append(Check(section: "toolchain", name: name, ok: found != nil, required: true,
                                detail: found.map { "\(name) (\($0))" } ?? "\(name) not found by \(cc.displayName) (-l\(file))",
                                fix: found == nil ? "apt-get install \(package)" : nil))
        }
        return checks
    }

    // MARK: Linker

    /// The linkers `cc -fuse-ld=NAME` can use instead of GNU ld (`ld.NAME` on PATH).
    package static let alternativeLinkers = ["gold", "lld", "mold"]

    /// Which linker links the apps, and the others installed: a suggestion, never a choice made for
    /// the user, since another linker lays the binary out differently. gold linked the bench's
    /// apps (each with libbpf.a) in about two thirds of GNU ld's time (docs/benchmark.md).
    package static func linkerCheck(linkFlags: [String], installed: [String: String]) -> Check {
        if let chosen = linkFlags.last(where: { $0.hasPrefix("-fuse-ld=") }) {
            return Check(section: "toolchain", name: "linker", ok: true, required: false,
                         detail: "linker: \(chosen.dropFirst("-fuse-ld=".count)), from \(chosen) in the link flags")
        }
        let others = alternativeLinkers.filter { installed[$0] != nil }
        guard let suggested = others.first else {
            return Check(section: "toolchain", name: "linker", ok: true, required: false, detail: "linker: cc's default (GNU ld)")
        }
        let list = others.map { "\($0) (\(installed[$0] ?? ""))" }.joined(separator: ", ")
        return Check(section: "toolchain", name: "linker", ok: true, required: false,
                     detail: "linker: cc's default (GNU ld); also installed: \(list); LDFLAGS=-fuse-ld=\(suggested) links user space faster "
                        + "(the binaries are laid out differently, so it is yours to choose: docs/benchmark.md)")
    }

    /// What a program prints, run the way every child of swbpf is.
    package static func capture(_ executable: String, _ arguments: [String]) async throws -> ProcessOutcome {
        try await SystemProcessRunner().run(ProcessRequest(executable: executable, arguments: arguments, workingDirectory: "/"))
    }

    // MARK: Cross toolchain

    /// For a non-host target (from --arch, ARCH or swbpf.toml): its compiler, kernel headers,
    /// libraries, vmlinux.h and, for a big-endian one, whether bpftool can read its objects, each
    /// failure with the exact packages to install.
    package static func targetChecks(_ host: ToolchainResolver, arch option: String?) async -> [Check] {
        var resolver = host
        do {
            resolver.project.target = try TargetSelection.resolve(option: option, environment: host.environment, config: host.project.config,
                                                                  staticOption: false)
        } catch {
            return [missing("target", "target", error, fix: Diagnostic(of: error).help ?? "")]
        }
        guard !resolver.selection.isHost, let arch = resolver.selection.arch else { return [] }
        let section = "target \(arch.name) (\(arch.triple), from \(resolver.selection.origin))"
        func check(_ name: String, _ body: () throws -> String) -> Check {
            do {
                return Check(section: section, name: name, ok: true, required: true, detail: try body())
            } catch {
                return missing(section, name, error, fix: Diagnostic(of: error).help ?? arch.installCommand)
            }
        }
        var checks = [
            check("compiler") {
                let compiler = try resolver.userCompiler()
                return "\(([compiler.tool.displayName] + compiler.tool.leadingArguments).joined(separator: " ")) (\(compiler.tool.path), \(compiler.origin))"
            },
            check("kernel headers") {
                let directories = try resolver.bpfSystemIncludes(clang: ["/usr/include"]) ?? []
                return "kernel headers for \(arch.name) in \(directories.first ?? "?")"
            },
            check("libbpf") {
                if case .source(_, let display, _) = try resolver.libbpfChoice() { return "libbpf built from \(display) with the \(arch.name) compiler" }
                // The libbpf the build links: LIBBPF_OBJ or [libbpf] archive when set, else the target's system one.
                let libbpf = try resolver.libbpf(pkgConfigAnswer: nil)
                return "libbpf \(libbpf.version ?? "of unknown version") (\(libbpf.archive))"
            },
            check("libelf and zlib") {
                try resolver.checkTargetLibraries(arch, staticLink: false)
                return "libelf and zlib for \(arch.name) in \(resolver.targetLibraryDirectories(arch)[0])"
            },
            check("vmlinux.h") {
                let source = try resolver.vmlinuxSource()
                return "vmlinux.h for \(arch.name): " + (source.includeDirectory(root: resolver.project.root) ?? "\(source)")
            },
        ]
        var staticCheck = check("static libraries") {
            try resolver.checkTargetLibraries(arch, staticLink: true)
            return "static libelf and zlib for \(arch.name) (--static)"
        }
        staticCheck.required = false
        checks.append(staticCheck)
        if resolver.needsByteOrderCheck {
            var answer: [String]?
            let choice = try? resolver.bpftoolChoice()
            if case .program(let tool)? = choice { answer = try? await ToolchainResolver.probeBpftool(tool) }
            checks.append(check("byte order") {
                guard let choice else { throw ToolchainError.toolNotFound(tool: "bpftool", tried: ["bpftool on PATH"], package: "bpftool", knob: "BPFTOOL") }
                try resolver.checkByteOrder(bpftool: choice, answer: answer)
                return "bpftool reads big-endian objects"
            })
        }
        let qemu = "qemu-\(arch.machine == "armv7l" ? "arm" : arch.machine)-static"
        let emulator = resolver.onPath(qemu)
        checks.append(Check(section: section, name: "emulator", ok: emulator != nil, required: false,
                            detail: emulator.map { "\($0): runs \(arch.name) binaries here (\(qemu) -L /usr/\(arch.triple) ./NAME)" }
                                ?? "no \(qemu): \(arch.name) binaries cannot be tried on this machine",
                            fix: emulator == nil ? "apt-get install qemu-user-static" : nil))
        return checks
    }

    package static func missing(_ section: String, _ name: String, _ error: Error, fix: String) -> Check {
        Check(section: section, name: name, ok: false, required: true, detail: Diagnostic(of: error).message, fix: fix)
    }

    // MARK: Kernel

    package static func kernelChecks(_ resolver: ToolchainResolver) -> [Check] {
        var checks: [Check] = []
        if let source = try? resolver.vmlinuxSource(), case .header(let path, let origin) = source {
            checks.append(Check(section: "kernel", name: "BTF", ok: true, required: false, detail: "vmlinux.h from \(origin) (\(path))"))
        }
        let btf = FileSystem.stat(resolver.kernelBTF)
        let needsBTF: Bool
        if case .btf? = try? resolver.vmlinuxSource() { needsBTF = true } else { needsBTF = false }
        checks.append(Check(section: "kernel", name: "BTF", ok: btf != nil, required: needsBTF,
                            detail: btf.map { "kernel BTF at \(resolver.kernelBTF) (\(Decimal.string(Double($0.size) / 1_048_576, places: 1)) MiB)" }
                                ?? "no kernel BTF at \(resolver.kernelBTF): vmlinux.h cannot be generated and CO-RE cannot relocate",
                            fix: btf == nil ? "a kernel built with CONFIG_DEBUG_INFO_BTF=y, or set VMLINUX to a vmlinux.h" : nil))
        for (type, name, place) in [("bpf", "bpffs", KernelMounts.bpffsDefault), ("tracefs", "tracefs", KernelMounts.tracefsDefault)] {
            let mounted = type == "bpf" ? KernelMounts.bpffs : KernelMounts.tracefs
            checks.append(Check(section: "kernel", name: name, ok: mounted != nil, required: false,
                                detail: mounted.map { "\(name) mounted at \($0)" } ?? "\(name) is not mounted",
                                fix: mounted == nil ? KernelMounts.mountCommand(type: type, at: place) : nil))
        }
        let caps = Capabilities.current()
        let held = [("CAP_BPF", caps.bpf), ("CAP_PERFMON", caps.perfmon), ("CAP_SYS_ADMIN", caps.sysAdmin), ("CAP_NET_ADMIN", caps.netAdmin)]
        let names = held.filter(\.1).map(\.0)
        let lacking = held.filter { !$0.1 }.map(\.0)
        checks.append(Check(section: "kernel", name: "capabilities", ok: caps.canLoadBPF && (caps.perfmon || caps.sysAdmin), required: true,
                            detail: names.isEmpty ? "capabilities: none of \(lacking.joined(separator: ", "))"
                                : "capabilities: \(names.joined(separator: ", "))" + (lacking.isEmpty ? "" : "; missing: \(lacking.joined(separator: ", "))"),
                            fix: caps.canLoadBPF && (caps.perfmon || caps.sysAdmin) ? nil
                                : "run as root (sudo), or give the binary the capabilities: setcap cap_bpf,cap_perfmon,cap_net_admin+ep ./APP"))
        let value = FileSystem.readText("/proc/sys/kernel/unprivileged_bpf_disabled")?.trimmed() ?? "?"
        let meaning = value == "0" ? "unprivileged users may load some BPF programs"
            : value == "1" ? "only privileged users may load BPF, until reboot" : value == "2" ? "only privileged users may load BPF" : "unknown"
        let unprivilegedOK = caps.canLoadBPF || value == "0"
        checks.append(Check(section: "kernel", name: "unprivileged_bpf_disabled", ok: unprivilegedOK, required: false,
                            detail: "kernel.unprivileged_bpf_disabled = \(value): \(meaning)" + (caps.canLoadBPF ? "; this process is privileged" : ""),
                            fix: unprivilegedOK ? nil : value == "2" ? "run as root, or sysctl kernel.unprivileged_bpf_disabled=0" : "run as root"))
        return checks
    }

    /// Builds the loader in a temporary directory with `cc` and `libbpf`, runs its probes, removes it.
    package static func probeKernel(cc: Tool, libbpf: Libbpf, temporaryDirectory: String) async throws -> KernelFeatures {
        let pattern = FileSystem.join(temporaryDirectory, "swbpf-doctor-XXXXXX")
        var template = Array(pattern.utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FileError.cannotCreateDirectory(path: pattern, reason: String(cString: strerror(errno)))
        }
        let directory = String(cString: made)
        defer { VerifySession.removeTree(directory) }
        try KernelLoader.writeSource(stateDirectory: directory)
        let loader = FileSystem.join(directory, KernelLoader.binaryName)
        let include = libbpf.includeDirectory.map { ["-I" + $0] } ?? []
        let arguments = cc.leadingArguments + ["-O2"] + include
            + [FileSystem.join(directory, KernelLoader.sourceName), libbpf.archive, "-lelf", "-lz", "-o", loader]
        let build = try await SystemProcessRunner().run(ProcessRequest(executable: cc.path, arguments: arguments, workingDirectory: directory))
        guard build.status == 0 else {
            throw KernelError.loaderNeedsCompiler(reason: "\(Shell.join([cc.displayName] + arguments)) failed:\n"
                                                  + String(decoding: build.standardError + build.standardOutput, as: UTF8.self))
        }
        let tracefs = KernelMounts.tracefs ?? KernelMounts.tracefsDefault
        return try await VerifySession.probe(loader: loader, tracefs: tracefs, root: directory)
    }

    package static func kernelKinds(_ features: KernelFeatures) -> [KernelKind] {
        features.probes.values.sorted { $0.kind < $1.kind }.map { probe in
            KernelKind(kind: probe.kind, title: probe.kind.title, loads: probe.loads,
                       loadError: probe.loads ? nil : Errno.describe(probe.loadErrno), loadErrno: probe.loadErrno,
                       attach: !probe.loads || probe.attachErrno == nil ? "not tried" : probe.attachErrno == 0 ? "ok" : "failed",
                       attachError: probe.attachErrno.flatMap { $0 == 0 ? nil : probe.attachFailure($0) },
                       target: probe.target, summary: probe.summary)
        }
    }

    // MARK: Project

    /// The app's program sections, read from its kernel sources (no build needed), and what this
    /// kernel would do with each.
    package static func appNeeds(_ app: App, root: String, features: KernelFeatures?) -> AppNeeds {
        var sections: [String] = []
        for source in app.bpfSources {
            let text = FileSystem.readText(FileSystem.join(root, source)) ?? ""
            for section in sectionNames(in: withoutComments(text)) where ProgramKind.of(section: section) != nil && !sections.contains(section) {
                sections.append(section)
            }
        }
        let kinds = Set(sections.compactMap(ProgramKind.of(section:))).sorted()
        let problems = kinds.compactMap { kind -> String? in
            guard let problem = features?.problem(for: kind) else { return nil }
            let named = sections.filter { ProgramKind.of(section: $0) == kind }.joined(separator: ", ")
            return "\(kind.programs) (\(named)): \(problem)"
        }
        return AppNeeds(name: app.name, sections: sections, problems: problems)
    }

    /// C source with its comments blanked out, so that a SEC("...") in a comment is not a program.
    package static func withoutComments(_ text: String) -> String {
        var result: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        var quote: UInt8?
        while index < bytes.count {
            let byte = bytes[index], next = index + 1 < bytes.count ? bytes[index + 1] : 0
            if let open = quote {
                result.append(byte)
                if byte == UInt8(ascii: "\\") && index + 1 < bytes.count { result.append(next); index += 2; continue }
                if byte == open || byte == 0x0A { quote = nil }
                index += 1
            } else if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                let end = (index + 2..<max(bytes.count - 1, index + 2)).first { bytes[$0] == UInt8(ascii: "*") && bytes[$0 + 1] == UInt8(ascii: "/") }
                index = end.map { $0 + 2 } ?? bytes.count
                result.append(0x20)
            } else if byte == UInt8(ascii: "/") && next == UInt8(ascii: "/") {
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            } else {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { quote = byte }
                result.append(byte)
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The quoted names of every `SEC("...")` in a source.
    package static func sectionNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = text[...]
        while let start = rest.firstRange(of: "SEC(\"") {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            names.append(String(rest[..<end]))
            rest = rest[end...]
        }
        return names
    }

    // MARK: Rendering

    public static func render(_ report: Report) -> String {
        var lines = ["swbpf doctor: \(report.kernelRelease)"]
        var section = ""
        func mark(_ ok: Bool) -> String { ok ? "✓" : "✗" }
        for check in report.checks {
            if check.section != section {
                section = check.section
                lines.append(section)
            }
            lines.append("  \(mark(check.ok)) \(check.detail)" + (check.fix.map { "; fix: \($0)" } ?? ""))
        }
        if !report.kinds.isEmpty {
            lines.append("program kinds (a tiny program of each loaded into this kernel, and attached where that changes nothing else)")
            for kind in report.kinds {
                let usable = kind.loads && kind.attach != "failed"
                let fix = usable ? "" : "; fix: " + (kind.loads ? kind.kind.attachFix : kind.kind.loadFix(kind.loadErrno))
                lines.append("  \(mark(usable)) \(kind.title): \(kind.summary)\(fix)")
            }
        }
        if let project = report.project {
            lines.append("project \(project)")
            for app in report.apps {
                let kinds = Set(app.sections.compactMap(ProgramKind.of(section:))).sorted().map(\.rawValue)
                let minimum = app.minimumKernel.map { "; needs \($0)" } ?? ""
                lines.append(app.affected ? "  ✗ app \(app.name): " + app.problems.joined(separator: "; ")
                                          : "  ✓ app \(app.name): " + (kinds.isEmpty ? "no programs found" : kinds.joined(separator: ", ")) + minimum)
            }
            if report.apps.contains(where: { $0.minimumKernel != nil }) { lines.append("  (\(MinimumKernel.caveat))") }
        }
        let failed = report.checks.filter { !$0.ok && $0.required }.map(\.name)
        let affected = report.apps.filter(\.affected).map(\.name)
        if report.ok {
            lines.append("swbpf doctor: everything \(report.project == nil ? "swbpf needs" : "this project needs") is here")
        } else {
            var parts: [String] = []
            if !failed.isEmpty { parts.append("missing: " + failed.joined(separator: ", ")) }
            if !affected.isEmpty { parts.append("apps this kernel cannot run as written: " + affected.joined(separator: ", ")) }
            lines.append("swbpf doctor: " + parts.joined(separator: "; "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Doctor.AppNeeds {
    /// Records the app's minimum kernel, a problem when the running kernel is older.
    package mutating func add(_ minimum: AppMinimum, running: KernelVersion?) {
        guard let version = minimum.version else { return }
        minimumKernel = "Linux ≥ \(version) (\(minimum.because.joined(separator: ", ")))"
        if let running, running < version {
            problems.append("it needs Linux ≥ \(version) for \(minimum.because.joined(separator: ", ")); this kernel is \(running)")
            affected = true
        }
    }
}
