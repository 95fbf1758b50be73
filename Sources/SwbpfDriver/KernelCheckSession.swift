import SwbpfBasics
import SwbpfBuild
import SwbpfKernel
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// `swbpf verify --kernel K [--vm]`: every program of the selected apps against other kernels.
/// Offline, libbpf relocates CO-RE against each kernel's BTF and this machine's verifier checks
/// the result; with --vm, each kernel boots in qemu and its own verifier answers.
package enum KernelCheckSession {
    package struct Outcome {
        package var kernels: [KernelImage]
        package var verdicts: [KernelVerdict]
        /// Why KVM was not used, when a VM ran.
        package var kvmProblem: String?
    }

    /// `minimums`: the apps' quick answers, checked against each kernel file's release once it is
    /// read (a kernel named by its version was checked before).
    package static func check(_ opened: OpenedProject, kernels names: [String], minimums: [AppMinimum] = [], vm: Bool, jobs: Int,
                              environment: [String: String], note: (String) -> Void) async throws -> Outcome {
        guard let cache = CacheSettings.localDirectory(environment: environment) else { throw CacheError.noCacheDirectory }
        let images = KernelImages(cacheDirectory: cache, searchPath: environment["PATH"])
        var kernels: [KernelImage] = []
        for name in names {
            let kernel = try await images.resolve(name, base: FileSystem.currentDirectory())
            note("swbpf: kernel \(name): \(kernel.origin)" + (kernel.release.map { ", Linux \($0.split(separator: " ").first ?? "")" } ?? ""))
            if MinimumKernel.version(named: name, base: FileSystem.currentDirectory()) == nil,
               let version = kernel.release.flatMap(KernelVersion.init(parsing:)) {
                let warnings = MinimumKernel.warnings(minimums, kernel: name, version: version)
                if !warnings.isEmpty { note(String(warnings.dropLast())) }
            }
            kernels.append(kernel)
        }
        if vm {
            var outcome = try await boot(opened, kernels: kernels, jobs: jobs, environment: environment, note: note)
            outcome.verdicts = placingRefusals(outcome.verdicts, opened)
            return outcome
        }
        var verdicts: [KernelVerdict] = []
        for kernel in kernels {
            verdicts += try await VerifySession.verify(opened, btf: kernel.btf, note: { note($0) }).map {
                KernelVerdict(kernel: kernel.name, mode: .btf, report: $0.report, log: $0.log)
            }
        }
        return Outcome(kernels: kernels, verdicts: placingRefusals(verdicts, opened), kvmProblem: nil)
    }

    /// Where a refusal has no source line the log gave: a kernel without a kfunc refuses the
    /// program in libbpf, before any verifier log quotes a line (the call's line comes from the
    /// object's line info), and older kernels (6.1) quote the line without its file and number
    /// (found by its text in the line info). The file is named as the app names it.
    private static func placingRefusals(_ verdicts: [KernelVerdict], _ opened: OpenedProject) -> [KernelVerdict] {
        var objects: [String: [UInt8]] = [:]
        return verdicts.map { verdict in
            let report = verdict.report
            guard report.verdict != .accepted, report.source == nil else { return verdict }
            let path = FileSystem.absolute(report.object, base: opened.project.root)
            guard let bytes = objects[path] ?? FileSystem.read(path) else { return verdict }
            objects[path] = bytes
            let placed: VerifierLog.SourceLine?
            if let missing = verdict.missing, missing.hasPrefix("kfunc ") {
                placed = ObjectSourceLines.kfuncCall(String(missing.dropFirst("kfunc ".count)), section: report.section, in: bytes)
            } else if let quoted = report.lastLines.last(where: { $0.hasPrefix("; ") }) {
                placed = ObjectSourceLines.line(quoting: String(quoted.dropFirst(2)), section: report.section, in: bytes)
            } else {
                placed = nil
            }
            guard var line = placed else { return verdict }
            let base = FileSystem.split(line.file).base
            let sources = opened.project.apps.first { $0.name == verdict.report.app }?.bpfSources ?? []
            line.file = sources.first { FileSystem.split($0).base == base } ?? base
            var located = verdict
            located.report.source = line
            return located
        }
    }

    /// Boots every kernel with the same initramfs, up to `jobs` at once.
    private static func boot(_ opened: OpenedProject, kernels: [KernelImage], jobs: Int, environment: [String: String],
                             note: (String) -> Void) async throws -> Outcome {
        for kernel in kernels where kernel.bootImage == nil { throw KernelVMError.noBootImage(kernel: kernel.name) }
        let root = opened.project.root
        let scratch = FileSystem.join(OpenedProject.stateDirectory(of: opened.project), "vm")
        try FileSystem.createDirectory(scratch)
        let objects = opened.selectedApps.compactMap { app in
            opened.plan.steps.first(where: { $0.kind == .bpfLink && $0.app == app.name }).map { (app: app, object: $0.primaryOutput) }
        }
        let initramfs = try await VMAssets.initramfs(opened, objects: objects.map { FileSystem.absolute($0.object, base: root) },
                                                     scratch: scratch, searchPath: environment["PATH"])
        let (vm, kvmProblem) = try await KernelVM.prepare(searchPath: environment["PATH"], probeImage: kernels[0].bootImage!, scratch: scratch)
        if let kvmProblem {
            note("swbpf: KVM is not usable (\(kvmProblem)): each kernel boots under TCG emulation, about 30 s each instead of a few seconds")
        }
        note("swbpf: booting \(kernels.map(\.name).joined(separator: ", ")) with \(vm.useKVM ? "KVM" : "TCG"), \(min(max(jobs, 1), kernels.count)) at a time")
        let capabilities = Capabilities.current()
        let results = try await withThrowingTaskGroup(of: (Int, [KernelVerdict]).self) { group in
            var next = 0, collected: [(Int, [KernelVerdict])] = []
            func start() {
                let index = next, kernel = kernels[index]
                next += 1
                group.addTask {
                    let directory = FileSystem.join(scratch, "\(index)")
                    try FileSystem.createDirectory(directory)
                    let records = try await vm.run(kernel: kernel.name, image: kernel.bootImage!, initramfs: initramfs, scratch: directory)
                    let features = records.probe.map(LoaderOutputReader.parseProbe)
                    var verdicts: [KernelVerdict] = []
                    for (number, entry) in objects.enumerated() {
                        guard let run = records.objects[number] else { continue }
                        let reports = try VerifySession.reports(app: entry.app, object: entry.object, output: run.output,
                                                                command: "swbpf-loader verify \(entry.object) (in \(kernel.name))",
                                                                features: features, capabilities: capabilities)
                        verdicts += reports.map { KernelVerdict(kernel: kernel.name, mode: .vm, report: $0.report, log: $0.log) }
                    }
                    return (index, verdicts)
                }
            }
            while next < min(max(jobs, 1), kernels.count) { start() }
            while let result = try await group.next() {
                collected.append(result)
                if next < kernels.count { start() }
            }
            return collected
        }
        return Outcome(kernels: kernels, verdicts: results.sorted { $0.0 < $1.0 }.flatMap(\.1), kvmProblem: kvmProblem)
    }
}

/// What a virtual machine boots with besides the kernel: a statically linked loader and an
/// initramfs, rebuilt only when what goes in changes.
package enum VMAssets {
    package static func initramfs(_ opened: OpenedProject, objects: [String], scratch: String, searchPath: String?) async throws -> String {
        guard let busyboxPath = FileSystem.onPath("busybox", searchPath: (searchPath ?? "/usr/bin:/bin") + ":/bin"),
              let busybox = FileSystem.read(busyboxPath), isStatic(busybox) else {
            throw KernelVMError.missingPackage(tool: "a statically linked busybox", package: "busybox-static")
        }
        let loader = try await staticLoader(opened, scratch: scratch)
        var contents: [[UInt8]] = []
        for object in objects {
            guard let bytes = FileSystem.read(object) else { throw FileError.cannotRead(path: object, reason: FileSystem.lastError()) }
            contents.append(bytes)
        }
        let archive = VMInitramfs.archive(busybox: busybox, loader: loader, objects: contents)
        let path = FileSystem.join(scratch, "initramfs.cpio")
        if FileSystem.read(path) != archive { try FileSystem.writeAtomically(path, archive) }
        return path
    }

    /// No PT_INTERP program header: the file needs no dynamic loader, so it runs alone in the guest.
    package static func isStatic(_ bytes: [UInt8]) -> Bool {
        guard ELFSections.isELF(bytes) else { return false }
        let table = Int(bytes.littleEndian(UInt64.self, at: 0x20)), size = Int(bytes.littleEndian(UInt16.self, at: 0x36))
        let count = Int(bytes.littleEndian(UInt16.self, at: 0x38))
        return !(0..<count).contains { bytes.littleEndian(UInt32.self, at: table + $0 * size) == 3 }
    }

    /// The loader step's own command with -static, built again only when the loader changed.
    private static func staticLoader(_ opened: OpenedProject, scratch: String) async throws -> [UInt8] {
        let root = opened.project.root
        guard let step = opened.plan.tools.first(where: { $0.kind == .kernelLoader }),
              let dynamic = ContentHash.of(file: FileSystem.absolute(step.primaryOutput, base: root)) else {
            throw KernelError.loaderNeedsCompiler(reason: "the loader was not built")
        }
        let path = FileSystem.join(scratch, "swbpf-loader-static"), stamp = path + ".from"
        if FileSystem.readText(stamp) == dynamic.description, let bytes = FileSystem.read(path) { return bytes }
        var words = step.tool.leadingArguments + ["-static"] + step.arguments.map { $0.resolved(temporaryOutputs: false) }
        let temporary = FileSystem.temporarySibling(of: path)
        if let output = words.firstIndex(of: "-o"), output + 1 < words.count { words[output + 1] = temporary }
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: step.tool.path, arguments: words, workingDirectory: root))
        guard outcome.status == 0, let bytes = FileSystem.read(temporary) else {
            unlink(temporary)
            throw KernelError.loaderNeedsCompiler(reason: "linking it statically failed: \(Shell.join([step.tool.path] + words))\n"
                                                  + String(decoding: outcome.standardError, as: UTF8.self)
                                                  + "(a static link needs libelf.a and libz.a: apt-get install libelf-dev zlib1g-dev)")
        }
        try FileSystem.rename(temporary, to: path)
        try FileSystem.writeAtomically(stamp, Array(dynamic.description.utf8))
        return bytes
    }
}
