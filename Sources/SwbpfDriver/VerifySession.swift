import FoundationEssentials
import SwbpfBasics
import SwbpfBuild
import SwbpfKernel
import SwbpfModel
#if canImport(Glibc)
import Glibc
#endif

/// What `swbpf verify` was asked to do.
public struct VerifyRequest: Sendable {
    public var build: BuildRequest
    /// One JSON object per program on standard output instead of the table.
    public var json = false
    /// Write every program's whole verifier log to this file.
    public var logFile: String?
    /// Other kernels to check against (`--kernel`); empty: swbpf.toml's `[verify] kernels`.
    public var kernels: [String] = []
    /// Boot each of those kernels in a virtual machine instead of checking offline.
    public var vm = false

    public init(build: BuildRequest) {
        self.build = build
        self.build.kernelLoader = true
        self.build.runsHere = "verify"
    }
}

/// `swbpf verify`: builds the apps and the kernel loader, then hands every program of each app's
/// object to the kernel verifier, alone, without attaching it, and reports veristat-style.
public enum VerifySession {
    /// Returns the exit status (0 when every program was accepted) and the build, for --watch.
    public static func run(_ request: VerifyRequest, console: BuildReporter) async -> (status: Int32, prepared: PreparedBuild?) {
        let (status, prepared) = await BuildSession.build(request.build, console: console)
        guard status == 0, let prepared, let opened = prepared.plannedProject else { return (status, prepared) }
        let kernels = request.kernels.isEmpty ? opened.project.config.verifyKernels : request.kernels
        let minimums = MinimumKernel.of(opened)
        TextOutput.standardError.write(MinimumKernel.report(minimums))
        if !kernels.isEmpty || request.vm {
            return (await checkKernels(opened, kernels: kernels, minimums: minimums, request: request, console: console), prepared)
        }
        do {
            let verified = try await verify(opened, note: { console.handle(.note($0)) })
            let reports = verified.map(\.report)
            if request.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                for report in reports { TextOutput.standardOutput.write(Array(try encoder.encode(report)) + [0x0A]) }
            } else {
                TextOutput.standardOutput.write(VerifyRendering.table(reports))
                for report in reports {
                    if let text = VerifyRendering.problem(report) { TextOutput.standardError.write(text) }
                }
                TextOutput.standardOutput.write(VerifyRendering.summary(reports) + "\n")
            }
            if let logFile = request.logFile {
                let path = FileSystem.absolute(logFile, base: FileSystem.currentDirectory())
                try FileSystem.writeAtomically(path, Array(VerifyRendering.logs(verified).utf8))
                console.handle(.note("swbpf: verifier logs written to \(logFile)"))
            }
            return (reports.allSatisfy { $0.verdict == .accepted } ? 0 : 1, prepared)
        } catch is CancellationError {
            return (130, prepared)
        } catch {
            console.handle(.diagnostic(Diagnostic(of: error)))
            return (1, prepared)
        }
    }

    /// `--kernel`: the matrix of programs and kernels.
    private static func checkKernels(_ opened: OpenedProject, kernels: [String], minimums: [AppMinimum], request: VerifyRequest,
                                     console: BuildReporter) async -> Int32 {
        do {
            guard !kernels.isEmpty else {
                throw KernelVMError.noKernels
            }
            // The quick answer first, before anything is fetched or loaded.
            for kernel in kernels {
                guard let version = MinimumKernel.version(named: kernel, base: FileSystem.currentDirectory()) else { continue }
                TextOutput.standardError.write(MinimumKernel.warnings(minimums, kernel: kernel, version: version))
            }
            let outcome = try await KernelCheckSession.check(opened, kernels: kernels, minimums: minimums, vm: request.vm, jobs: request.build.jobs,
                                                             environment: request.build.environment, note: { console.handle(.note($0)) })
            if request.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                for verdict in outcome.verdicts { TextOutput.standardOutput.write(Array(try encoder.encode(verdict)) + [0x0A]) }
            } else {
                TextOutput.standardOutput.write(KernelMatrixRendering.table(kernels: outcome.kernels, verdicts: outcome.verdicts))
                TextOutput.standardError.write(KernelMatrixRendering.problems(outcome.verdicts))
                TextOutput.standardOutput.write(KernelMatrixRendering.summary(kernels: outcome.kernels, verdicts: outcome.verdicts, vm: request.vm))
            }
            return outcome.verdicts.allSatisfy { $0.report.verdict == .accepted || $0.undecided } ? 0 : 1
        } catch is CancellationError {
            return 130
        } catch {
            console.handle(.diagnostic(Diagnostic(of: error)))
            return 1
        }
    }

    /// A program's report with the whole verifier log it was read from (for --log).
    package struct VerifiedProgram {
        package var report: ProgramReport
        package var log: String
    }

    /// Loads every program of the selected apps' objects; with `btf`, CO-RE is relocated against
    /// that BTF (another kernel's) instead of this kernel's. Needs the build done (the objects and
    /// the loader exist).
    package static func verify(_ opened: OpenedProject, btf: String? = nil, note: (String) -> Void) async throws -> [VerifiedProgram] {
        let root = opened.project.root
        guard let loaderStep = opened.plan.tools.first(where: { $0.kind == .kernelLoader }) else { return [] }
        let loader = FileSystem.absolute(loaderStep.primaryOutput, base: root)
        let bpffs = try KernelMounts.ensureBpffs(note: note)
        let tracefs = try KernelMounts.ensureTracefs(note: note)
        let features = try await probe(loader: loader, tracefs: tracefs, root: root)
        let pins = FileSystem.join(bpffs, "swbpf-verify-\(getpid())")
        guard mkdir(pins, 0o700) == 0 || errno == EEXIST else {
            throw KernelError.cannotCreatePinDirectory(path: pins, reason: String(cString: strerror(errno)))
        }
        defer { removeTree(pins) }
        let capabilities = Capabilities.current()
        var verified: [VerifiedProgram] = []
        for app in opened.selectedApps {
            // Every kernel part of the app is one object; a program has none.
            for object in opened.plan.steps.filter({ $0.kind == .bpfLink && $0.app == app.name }).map(\.primaryOutput) {
                let arguments = ["verify", object, pins] + (btf.map { [$0] } ?? [])
                let output = try await runLoader(loader, arguments, root: root, acceptedStatuses: [0, 3])
                verified += try reports(app: app, object: object, output: output.standardOutput, command: Shell.join([loader] + arguments),
                                        features: features, capabilities: capabilities)
            }
        }
        return verified
    }

    /// The reports of one object from what the loader printed for it.
    package static func reports(app: App, object: String, output: [UInt8], command: String, features: KernelFeatures?,
                                capabilities: Capabilities) throws -> [VerifiedProgram] {
        let parsed: LoaderVerifyOutput
        do {
            parsed = try LoaderOutputReader.parseVerify(output)
        } catch {
            throw KernelError.loaderOutputMalformed(command: command, reason: "\(error)")
        }
        if let failure = parsed.openError {
            throw KernelError.cannotOpenObject(path: object, error: Errno.describe(failure.status), libbpfLog: failure.libbpfLog)
        }
        return parsed.programs.map { loaded in
            VerifiedProgram(report: ProgramReport.make(app: app, object: object, loaded: loaded, features: features, capabilities: capabilities),
                            log: loaded.kernelLog.isEmpty ? loaded.truncatedLog ?? "" : loaded.kernelLog)
        }
    }

    /// Asks the kernel which program kinds load and attach, through the loader.
    package static func probe(loader: String, tracefs: String, root: String) async throws -> KernelFeatures {
        let output = try await runLoader(loader, ["probe", tracefs], root: root, acceptedStatuses: [0])
        return LoaderOutputReader.parseProbe(output.standardOutput)
    }

    package static func runLoader(_ loader: String, _ arguments: [String], root: String, acceptedStatuses: Set<Int32>) async throws -> ProcessOutcome {
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: loader, arguments: arguments, workingDirectory: root))
        guard !outcome.signalled, acceptedStatuses.contains(outcome.status) else {
            throw KernelError.loaderFailed(command: Shell.join([loader] + arguments), status: outcome.status,
                                           output: String(decoding: outcome.standardError + outcome.standardOutput.suffix(4000), as: UTF8.self))
        }
        return outcome
    }

    /// Removes a directory of pinned objects (files and directories libbpf made) and itself.
    package static func removeTree(_ path: String) {
        for entry in FileSystem.entries(path) ?? [] {
            let child = FileSystem.join(path, entry.name)
            if entry.isDirectory { removeTree(child) } else { unlink(child) }
        }
        rmdir(path)
    }
}
