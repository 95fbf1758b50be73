import Foundation
import Testing
import SwbpfTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Integration tests of the project templates, through the real swbpf binary, clang, bpftool, cc
/// and kernel: `swbpf templates`, `swbpf new`, `swbpf add`, and for every template a project that
/// builds, loads into the verifier, and (where this kernel can attach it) runs and prints what its
/// author says it prints.
///
/// Helpers are in TemplateTestSupport.swift.
@Suite(.timeLimit(.minutes(20)))
struct TemplateTests {
    /// One template, as a test argument.
    struct Spec: Sendable, CustomTestStringConvertible {
        let id: String
        /// The programs in its BPF object: what `--load-only` counts.
        let programs: Int
        /// The app's name: t_ID unless a suite of its own picks another.
        let name: String
        var testDescription: String { id }

        init(id: String, programs: Int, name: String? = nil) {
            self.id = id
            self.programs = programs
            self.name = name ?? "t_\(id)"
        }
    }

    /// Every template, in the order `swbpf templates` lists them.
    static let templates: [Spec] = [
        Spec(id: "minimal", programs: 1), Spec(id: "tracepoint", programs: 1), Spec(id: "kprobe", programs: 2),
        Spec(id: "fentry", programs: 2), Spec(id: "ksyscall", programs: 2), Spec(id: "uprobe", programs: 2),
        Spec(id: "ringbuf", programs: 2), Spec(id: "xdp", programs: 1), Spec(id: "tc", programs: 1),
        Spec(id: "iter", programs: 1), Spec(id: "usdt", programs: 1), Spec(id: "profile", programs: 1),
    ]

    static let templatesDirectory = repositoryRoot + "/templates"

    /// The files of templates/ID as `swbpf new --name NAME` must write them (template.toml aside),
    /// with the user space in C or, when `swift`, in Swift: the other language's @name@.c or
    /// @name@.swift left out, and for Swift the README naming `NAME.swift` where it names `NAME.c`.
    static func expectedFiles(_ id: String, name: String, swift: Bool = false) throws -> [String: String] {
        let directory = templatesDirectory + "/" + id
        let otherLanguage = swift ? "@name@.c" : "@name@.swift"
        var files: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) where file != "template.toml" && file != otherLanguage {
            var text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            if swift && file == "README.md" {
                text = text.replacing("`@name@.c`", with: "`@name@.swift`")
            }
            let substitute = { (s: String) in s.replacing("@NAME@", with: name.uppercased()).replacing("@name@", with: name) }
            files[substitute(file)] = substitute(text)
        }
        // The shared helpers every template calls (custom_btf.c and .h), written as they are.
        let helpers = templatesDirectory + "/helpers"
        for file in try FileManager.default.contentsOfDirectory(atPath: helpers) {
            files[file] = try String(contentsOfFile: helpers + "/" + file, encoding: .utf8)
        }
        return files
    }

    // MARK: - swbpf templates, new, add (no kernel needed)

    @Suite struct Commands {
        /// The harness itself: apps run by these tests start as from a shell, with no signal
        /// blocked; otherwise `-d` (alarm()) and SIGTERM would not stop them.
        @Test func appsStartWithNoSignalBlocked() async throws {
            let run = try await TemplateHarness.run("/bin/grep", ["^SigBlk:", "/proc/self/status"], in: "/")
            #expect(run.exitedWith0 && run.stdout == "SigBlk:\t0000000000000000\n", "\(run)")
        }

        /// `swbpf templates` names all twelve templates in order, each with the description and the
        /// kernel feature ("needs:") from its template.toml, and the languages of its user space:
        /// Swift where templates/ID has an @name@.swift.
        @Test func templatesListsEveryTemplateWithDescriptionAndNeeds() async throws {
            let scratch = try TemporaryProject("templates-list")
            let list = try await TemplateHarness.swbpf(["templates"], in: scratch.path)
            #expect(list.status == 0 && list.stderr.isEmpty, "swbpf templates: \(list.output)")
            let lines = TemplateHarness.lines(list.stdout)
            try #require(lines.count == 3 * TemplateTests.templates.count, "swbpf templates printed:\n\(list.stdout)")
            let width = TemplateTests.templates.map(\.id.count).max()! + 2
            for (index, spec) in TemplateTests.templates.enumerated() {
                let toml = try String(contentsOfFile: "\(TemplateTests.templatesDirectory)/\(spec.id)/template.toml", encoding: .utf8)
                let description = try #require(TemplateHarness.tomlString(toml, "description"), "\(spec.id)/template.toml has no description")
                let feature = try #require(TemplateHarness.tomlString(toml, "feature"), "\(spec.id)/template.toml has no feature")
                #expect(!description.isEmpty && !feature.isEmpty, "\(spec.id)")
                let padding = String(repeating: " ", count: width - spec.id.count)
                let hasSwift = FileManager.default.fileExists(atPath: "\(TemplateTests.templatesDirectory)/\(spec.id)/@name@.swift")
                let indent = String(repeating: " ", count: width)
                #expect(lines[3 * index] == spec.id + padding + description, "line \(3 * index + 1)")
                #expect(lines[3 * index + 1] == indent + "needs: " + feature, "line \(3 * index + 2)")
                #expect(lines[3 * index + 2] == indent + "user space in: " + (hasSwift ? "C, Swift (--lang swift)" : "C"), "line \(3 * index + 3)")
            }
            // And nothing is listed that templates/ does not have (or the other way round).
            let onDisk = try FileManager.default.contentsOfDirectory(atPath: TemplateTests.templatesDirectory)
                .filter { FileManager.default.fileExists(atPath: "\(TemplateTests.templatesDirectory)/\($0)/template.toml") }
            #expect(Set(onDisk) == Set(TemplateTests.templates.map(\.id)))
        }

        /// `swbpf new` into a directory that holds a file refuses, says why, and writes nothing.
        @Test func newRefusesANonEmptyDirectory() async throws {
            let scratch = try TemporaryProject("new-nonempty")
            let target = scratch.path + "/existing"
            try scratch.write("existing/notes.txt", "mine\n")
            let new = try await TemplateHarness.swbpf(["new", target, "--template", "ringbuf", "--name", "tool"], in: scratch.path)
            #expect(new.status == 1, "\(new.output)")
            #expect(new.stdout.isEmpty, "\(new.output)")
            #expect(new.stderr == """
                error: '\(target)' exists and is not empty
                help: choose a new directory, or use 'swbpf add NAME --template T' inside an existing project

                """)
            #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["notes.txt"])
            #expect(try scratch.read("existing/notes.txt") == "mine\n")
        }

        /// Names that cannot be a C identifier (the skeleton is `struct NAME_bpf`), or are a C keyword,
        /// are refused with the reason, given as --name or taken from the directory's name, and
        /// the directory is not created.
        @Test(arguments: [
            ("my-tool", "it is not a C identifier (letters, digits and '_', not starting with a digit)"),
            ("int", "'int' is a C keyword or reserved name"),
            ("2x", "it is not a C identifier (letters, digits and '_', not starting with a digit)"),
        ])
        func newRefusesABadName(name: String, reason: String) async throws {
            let scratch = try TemporaryProject("new-badname")
            let expected = "error: '\(name)' cannot be an app name: \(reason)\nhelp: use a C identifier such as 'mytool' or 'tcp_trace'\n"
            for arguments in [["new", scratch.path + "/proj", "--name", name], ["new", scratch.path + "/" + name]] {
                let new = try await TemplateHarness.swbpf(arguments + ["--template", "minimal"], in: scratch.path)
                #expect(new.status == 1, "swbpf \(arguments): \(new.output)")
                #expect(new.stdout.isEmpty && new.stderr == expected, "swbpf \(arguments): \(new.output)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "a refused new created something")
        }

        /// `swbpf add` of an app whose files exist refuses, lists exactly the files it would have
        /// overwritten, and changes nothing, even when only some of them exist; `--force`
        /// overwrites them with the new template, and the build then builds what was written.
        @Test func addRefusesExistingFilesAndForceOverwrites() async throws {
            let scratch = try TemporaryProject("add-refuse")
            let dir = scratch.path
            let new = try await TemplateHarness.swbpf(["new", dir, "--template", "minimal", "--name", "first"], in: dir)
            #expect(new.status == 0, "\(new.output)")
            let add = try await TemplateHarness.swbpf(["add", "rb", "--template", "ringbuf"], in: dir)
            #expect(add.status == 0, "\(add.output)")
            #expect(add.stdout == "  CREATE   rb.bpf.c\n  CREATE   rb.c\n  CREATE   rb.h\n", "\(add.output)")

            // The user has edited rb.c: the same add again must keep the edit.
            try scratch.append("rb.c", "/* my change */\n")
            let before = try ["rb.bpf.c", "rb.c", "rb.h", ".gitignore"].map { try scratch.read($0) }
            for template in ["ringbuf", "tc"] {
                let again = try await TemplateHarness.swbpf(["add", "rb", "--template", template], in: dir)
                #expect(again.status == 1 && again.stdout.isEmpty, "add rb --template \(template): \(again.output)")
                #expect(again.stderr == "error: refusing to overwrite existing files: rb.bpf.c, rb.c, rb.h\nhelp: pass --force to replace them\n")
            }
            // The project's first app is protected the same way.
            let first = try await TemplateHarness.swbpf(["add", "first", "--template", "uprobe"], in: dir)
            #expect(first.status == 1, "\(first.output)")
            #expect(first.stderr == "error: refusing to overwrite existing files: first.bpf.c, first.c\nhelp: pass --force to replace them\n",
                    "uprobe writes first.bpf.c, first.c and first.h; first.h does not exist: \(first.output)")
            #expect(!scratch.exists("first.h"), "a refused add wrote first.h")
            #expect(try ["rb.bpf.c", "rb.c", "rb.h", ".gitignore"].map { try scratch.read($0) } == before, "a refused add changed files")

            // Only one of the files exists: only it is listed, and none of the others is written.
            try scratch.write("solo.c", "/* a file of mine */\n")
            let partial = try await TemplateHarness.swbpf(["add", "solo", "--template", "ringbuf"], in: dir)
            #expect(partial.status == 1, "\(partial.output)")
            #expect(partial.stderr == "error: refusing to overwrite existing files: solo.c\nhelp: pass --force to replace them\n")
            #expect(!scratch.exists("solo.bpf.c") && !scratch.exists("solo.h"), "a refused add wrote files")
            #expect(try scratch.read("solo.c") == "/* a file of mine */\n")
            try FileManager.default.removeItem(atPath: dir + "/solo.c")

            // --force replaces rb (ringbuf) by the tc template.
            let forced = try await TemplateHarness.swbpf(["add", "rb", "--template", "tc", "--force"], in: dir)
            #expect(forced.status == 0, "\(forced.output)")
            #expect(forced.stdout == "  CREATE   rb.bpf.c\n  CREATE   rb.c\n  CREATE   rb.h\n", "\(forced.output)")
            let tc = try TemplateTests.expectedFiles("tc", name: "rb")
            for file in ["rb.bpf.c", "rb.c", "rb.h"] {
                #expect(try scratch.read(file) == tc[file], "\(file) is not the tc template's after --force")
            }
            #expect(try scratch.read(".gitignore") == "# Build products of swbpf\n/.output/\n/first\n/rb\n", "no duplicate /rb line")

            let build = try await TemplateHarness.swbpf(["build"], in: dir)
            #expect(build.status == 0, "swbpf build after --force: \(build.output)")
            let skeleton = try scratch.read(".output/rb.skel.h")
            #expect(skeleton.contains("struct bpf_program *log_ingress;") && !skeleton.contains("handle_exec"),
                    "rb was built from the old ringbuf sources")
        }
    }

    // MARK: - swbpf add into a project that already has an app

    @Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
    struct AddedApps {
        /// A minimal project plus a ringbuf and a uprobe app added later: one `swbpf build` builds
        /// all three, each loads through its own skeleton, and .gitignore covers every binary.
        @Test func addedAppsBuildWithTheFirstInOneBuild() async throws {
            let scratch = try TemporaryProject("add-apps")
            let dir = scratch.path
            let new = try await TemplateHarness.swbpf(["new", dir, "--template", "minimal", "--name", "first"], in: dir)
            #expect(new.status == 0, "\(new.output)")
            for (app, template) in [("rb", "ringbuf"), ("up", "uprobe")] {
                let add = try await TemplateHarness.swbpf(["add", app, "--template", template], in: dir)
                #expect(add.status == 0, "swbpf add \(app) --template \(template): \(add.output)")
                #expect(add.stdout == "  CREATE   \(app).bpf.c\n  CREATE   \(app).c\n  CREATE   \(app).h\n", "\(add.output)")
                for (file, contents) in try TemplateTests.expectedFiles(template, name: app) where file != "README.md" {
                    #expect(try scratch.read(file) == contents, "\(file)")
                }
            }
            // add writes app sources only: the project's README and config stay the first app's.
            #expect(try scratch.read("README.md") == TemplateTests.expectedFiles("minimal", name: "first")["README.md"])
            #expect(try scratch.read(".gitignore") == "# Build products of swbpf\n/.output/\n/first\n/rb\n/up\n")

            let build = try await TemplateHarness.swbpf(["build"], in: dir)
            try #require(build.status == 0, "one swbpf build of three apps: \(build.output)")
            let binaries = TemplateHarness.matches(build.stdout, #"  BINARY +(\S+)"#).map { $0[1] }
            #expect(binaries.sorted() == ["first", "rb", "up"], "\(build.stdout)")
            for (app, programs) in [("first", 1), ("rb", 2), ("up", 2)] {
                let load = try await TemplateHarness.run(dir + "/" + app, ["--load-only"], in: dir)
                #expect(load.exitedWith0 && load.stdout == "\(app): loaded \(programs) programs (verifier accepted)\n" && load.stderr.isEmpty,
                        "./\(app) --load-only: \(load)")
            }
            let again = try await TemplateHarness.swbpf(["build"], in: dir)
            #expect(again.status == 0 && again.stdout.contains("nothing to do"), "second build: \(again.output)")
        }
    }

    // MARK: - every template: new, build, load, verifier, run

    @Suite(.enabled(if: Kernel.isRoot, "needs root (CAP_BPF) to load BPF programs"))
    struct EveryTemplate {
        /// For one template: `swbpf new` writes exactly the template's files; `swbpf build` builds
        /// it; the app's -h works; `--load-only` loads every program through the skeleton (and
        /// with -v shows libbpf's log); `bpftool prog loadall` accepts the object; and the app, run
        /// briefly, prints what it should. Parts this kernel cannot do are asserted to fail with
        /// the kernel's specific error, printed, and the test case is then cancelled (Swift
        /// Testing's skip) with that reason.
        @Test(arguments: TemplateTests.templates)
        func template(_ spec: Spec) async throws {
            let scratch = try TemporaryProject("template-\(spec.id)")
            let dir = scratch.path, name = spec.name, app = scratch.path + "/" + spec.name

            // swbpf new, into the (empty) scratch directory.
            let new = try await TemplateHarness.swbpf(["new", dir, "--template", spec.id, "--name", name], in: dir)
            try #require(new.status == 0, "swbpf new --template \(spec.id): \(new.output)")
            var expected = try TemplateTests.expectedFiles(spec.id, name: name)
            #expect(expected.keys.contains("\(name).bpf.c") && expected.keys.contains("\(name).c"))
            let created = TemplateHarness.matches(new.stdout, "  CREATE   " + TemplateHarness.literal(dir) + "/(.+)").map { $0[1] }
            #expect(Set(created) == Set(expected.keys).union(["swbpf.toml", ".gitignore"]) && created.count == expected.count + 2,
                    "swbpf new printed: \(new.stdout)")
            #expect(new.stdout.hasSuffix("\nNext: cd \(dir) && swbpf build && sudo ./\(name)\n"), "\(new.stdout)")
            expected[".gitignore"] = "# Build products of swbpf\n/.output/\n/\(name)\n"
            for (file, contents) in expected {
                let written = try scratch.read(file)
                #expect(written == contents, "\(file) differs from templates/\(spec.id) with @name@ = \(name)")
                #expect(!written.contains("@name@") && !written.contains("@NAME@"), "\(file) has an unsubstituted placeholder")
            }
            #expect(try scratch.read("swbpf.toml").contains("Started from the '\(spec.id)' template"))

            // swbpf build.
            let build = try await TemplateHarness.swbpf(["build"], in: dir)
            try #require(build.status == 0, "swbpf build of the \(spec.id) template: \(build.output)")
            #expect(build.stdout.contains("  BINARY   \(name)\n"), "\(build.stdout)")
            try #require(FileManager.default.isExecutableFile(atPath: app), "no binary \(name) after the build")

            try await Self.expectHelpNamesTheCommonOptions(app: app, name: name, in: dir)

            // The kernel verifier, through bpftool (not through the app's skeleton).
            let object = dir + "/.output/\(name).bpf.o"
            let verifier = try await TemplateHarness.offThread { try Kernel.verifierCheck(object) }
            // --load-only, through the skeleton; and -v --load-only, which adds libbpf's log.
            let load = try await TemplateHarness.run(app, ["--load-only"], in: dir)
            let verbose = try await TemplateHarness.run(app, ["-v", "--load-only"], in: dir)

            var skips: [String] = []
            let fentryRefused = spec.id == "fentry" && verifier.status != 0
                && verifier.stderr.contains("BPF program load failed: Operation not permitted")
            if fentryRefused {
                // This kernel refuses to load fentry/fexit programs at all (EPERM, also for bpftool,
                // as root). The app must report exactly that; nothing of it can run here.
                let refusal = "\(name): failed to load BPF skeleton: Operation not permitted\n"
                #expect(load.status == 1 && !load.signaled && load.stdout.isEmpty && load.stderr == refusal, "\(name) --load-only: \(load)")
                #expect(verbose.status == 1 && verbose.stdout.isEmpty && verbose.stderr.hasSuffix(refusal)
                        && verbose.stderr.contains("libbpf: prog 'do_unlinkat_entry': BPF program load failed: Operation not permitted"),
                        "\(name) -v --load-only: \(verbose)")
                skips.append("fentry: kernel refuses fentry programs here: \(refusal.dropLast()) (bpftool prog loadall too: BPF program load failed: Operation not permitted)")
            } else {
                Self.expectAccepted(spec, name: name, verifier: verifier, load: load, verbose: verbose)
                if let skip = try await Self.run(spec, app: app, in: dir) { skips.append(skip) }
            }

            if !skips.isEmpty {
                let reason = skips.joined(separator: "; ")
                print("skipped: \(reason)")
                try Test.cancel(Comment(rawValue: reason))
            }
        }

        /// Runs the template's app as its author describes it and checks its output. Returns why
        /// the run could not happen on this kernel, if it could not (after asserting how it failed).
        static func run(_ spec: Spec, app: String, in dir: String) async throws -> String? {
            switch spec.id {
            case "minimal": try await runMinimal(spec, app: app, in: dir)
            case "tracepoint": try await runTracepoint(spec, app: app, in: dir)
            case "kprobe", "ksyscall": return try await runKprobe(spec, app: app, in: dir)
            // Reached only on a kernel that loads fentry programs (not this one): loading and the
            // verifier are checked above; its run has no recipe yet.
            case "fentry": return nil
            case "uprobe": try await runUprobe(spec, app: app, in: dir)
            case "ringbuf": try await runRingbuf(spec, app: app, in: dir)
            case "xdp": try await runXDP(spec, app: app, in: dir)
            case "tc": try await runTC(spec, app: app, in: dir)
            case "iter": try await runIter(spec, app: app, in: dir)
            case "usdt": try await runUSDT(spec, app: app, in: dir)
            case "profile": try await runProfile(spec, app: app, in: dir)
            default: Issue.record("no run recipe for the \(spec.id) template")
            }
            return nil
        }

        static let time = #"\d\d:\d\d:\d\d"#
        /// -h: usage on stdout, naming the options every template has.
        static func expectHelpNamesTheCommonOptions(app: String, name: String, in dir: String) async throws {
            let help = try await TemplateHarness.run(app, ["-h"], in: dir)
            #expect(help.exitedWith0 && help.stderr.isEmpty && help.stdout.hasPrefix("Usage: \(app) "), "\(name) -h: \(help)")
            for option in ["-v, --verbose", "-d, --duration SECONDS", "--load-only", "-h, --help"] {
                #expect(help.stdout.contains(option), "\(name) -h does not mention \(option):\n\(help.stdout)")
            }
        }

        /// The verifier accepted the object through bpftool, and the app's --load-only and
        /// -v --load-only (which adds libbpf's log) say how many programs it loaded.
        static func expectAccepted(_ spec: Spec, name: String, verifier: RunResult, load: TemplateRun, verbose: TemplateRun) {
            #expect(verifier.status == 0, "bpftool prog loadall refused \(name).bpf.o: \(verifier.output)")
            let loaded = "\(name): loaded \(spec.programs) programs (verifier accepted)\n"
            #expect(load.exitedWith0 && load.stdout == loaded && load.stderr.isEmpty, "\(name) --load-only: \(load)")
            #expect(verbose.exitedWith0 && verbose.stdout == loaded && verbose.stderr.contains("libbpf: "),
                    "\(name) -v --load-only: \(verbose)")
        }


        /// minimal logs each write(2) of its own process with bpf_printk().
        static func runMinimal(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let trace = try TemplatePrintkBuffer()
            let child = try TemplateChild(app, ["-d", "3"], in: dir)
            let pid = child.pid
            let run = await child.finish(timeout: 20)
            #expect(run.exitedWith0, "\(name) -d 3: \(run)")
            #expect(run.stdout == "\(name): watching write(2) calls of pid \(pid); read /sys/kernel/tracing/trace_pipe\n", "\(run)")
            // One dot per second, written to stderr: each is a write(2) the program reports.
            #expect(TemplateHarness.match(run.stderr, #"\.+\n"#) != nil, "\(run)")

            // Each line carries the writer's pid in the TASK-PID column too (or <...> when the
            // kernel's comm cache has already dropped the name).
            let contents = try trace.contents()
            let ours = TemplateHarness.matches(contents,
                #"\s*(?:\#(name)|<\.\.\.>)-\#(pid)\s+\[\d+\]\s+\S+\s+\d+\.\d+: bpf_trace_printk: BPF triggered from PID \#(pid)\."#)
            // At least the stdout line, the first dot and the final newline were written while attached.
            #expect(ours.count >= 3, "expected 'BPF triggered from PID \(pid).' for each write; the trace has:\n\(contents.suffix(3000))")
        }

        /// tracepoint prints every openat(2) on the machine: pid, ppid, comm, filename.
        static func runTracepoint(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let child = try TemplateChild(app, ["-d", "120"], in: dir)
            guard await child.waitForLine(#"PID\s+PPID\s+COMM\s+FILENAME"#, timeout: 30) != nil else {
                Issue.record("\(name): no header line: \(await child.finish())")
                return
            }
            // A perf buffer drops samples when a parallel build opens files faster than the app
            // reads them (it says "lost N events"), so cat is run again, each time on a new name,
            // until one of its opens is reported.
            var seen: (line: [String], catPid: Int32)?
            for _ in 1...5 where seen == nil {
                let file = "/tmp/swbpf-tp-\(UUID().uuidString.lowercased())"
                let cat = try TemplateChild("/bin/cat", [file], in: dir)
                let catPid = cat.pid
                let catRun = await cat.finish(timeout: 30)
                #expect(catRun.status == 1 && catRun.stderr.contains("No such file or directory"), "cat \(file): \(catRun)")
                if let line = await child.waitForLine(#"(\d+)\s+(\d+)\s+cat\s+"# + TemplateHarness.literal(file), timeout: 15) {
                    seen = (line, catPid)
                }
            }
            child.interrupt()
            let run = await child.finish(timeout: 30)
            #expect(run.exitedWith0, "\(name) stopped with SIGINT: \(run.status) \(run.stderr)")
            guard let (line, catPid) = seen else {
                Issue.record("\(name) reported none of 5 cat opens; its output ends with:\n\(run.stdout.suffix(3000))")
                return
            }
            #expect(line[1] == String(catPid) && line[2] == String(getpid()), "pid/ppid of cat: \(line[0]) (cat \(catPid), test \(getpid()))")
        }

        /// kprobe and ksyscall attach kprobes; on a kernel without them, attaching must fail and say so.
        static func runKprobe(_ spec: Spec, app: String, in dir: String) async throws -> String? {
            let name = spec.name
            let run = try await TemplateHarness.run(app, ["-d", "3"], in: dir, timeout: 20)
            let kprobesAvailable = FileManager.default.fileExists(atPath: Kernel.tracefs() + "/kprobe_events")
            if !kprobesAvailable {
                let refusal = "\(name): failed to attach BPF programs: No such file or directory\n"
                #expect(run.status == 1 && !run.signaled && run.stdout.isEmpty && run.stderr == refusal, "\(name) -d 3: \(run)")
                return "\(spec.id): kernel has no kprobes (CONFIG_KPROBES off, no kprobe_events in tracefs), attach fails: \(refusal.dropLast())"
            }
            let what = spec.id == "kprobe" ? "do_unlinkat()" : "unlinkat(2)"
            #expect(run.exitedWith0 && run.stdout == "\(name): tracing \(what); read /sys/kernel/tracing/trace_pipe\n", "\(name) -d 3: \(run)")
            return nil
        }

        /// uprobe calls its own NAME_target(i, 2i) once a second and reports entry and return.
        static func runUprobe(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let child = try TemplateChild(app, ["-d", "3"], in: dir)
            let pid = child.pid
            let run = await child.finish(timeout: 20)
            #expect(run.exitedWith0, "\(name) -d 3: \(run)")
            let lines = TemplateHarness.lines(run.stdout)
            try #require(lines.count >= 3, "\(run)")
            #expect(lines[0] == "\(name): probing \(name)_target() in pid \(pid)")
            // Entry and return of call i, in order, for i = 1, 2, ...: nothing lost, nothing else.
            let calls = Array(lines.dropFirst())
            #expect(calls.count % 2 == 0, "\(run)")
            for (index, line) in calls.enumerated() {
                let i = index / 2 + 1
                let expected = index % 2 == 0 ? "entry:  pid=\(pid) \(name)_target(a=\(i), b=\(2 * i))"
                                              : "return: pid=\(pid) \(name)_target() = \(3 * i)"
                #expect(line == expected, "line \(index + 2) of:\n\(run.stdout)")
            }
        }

        /// ringbuf reports every exec and exit on the machine.
        static func runRingbuf(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let child = try TemplateChild(app, ["-d", "120"], in: dir)
            guard await child.waitForLine("TIME     EVENT COMM.*", timeout: 30) != nil else {
                Issue.record("\(name): no header line: \(await child.finish())")
                return
            }
            let comm = "rbtest_\(Int.random(in: 1000...9999))"
            let program = dir + "/" + comm
            try FileManager.default.copyItem(atPath: "/bin/true", toPath: program)
            let traced = try TemplateChild(program, [], in: dir)
            let pid = traced.pid
            let tracedRun = await traced.finish(timeout: 10)
            #expect(tracedRun.exitedWith0, "\(program): \(tracedRun)")
            let me = getpid()
            let exec = await child.waitForLine("\(time) EXEC +\(comm) +\(pid) +(\\d+) +" + TemplateHarness.literal(program), timeout: 30)
            let exit = await child.waitForLine("\(time) EXIT +\(comm) +\(pid) +(\\d+) +\\[0\\] +\\d+\\.\\d{3}ms", timeout: 30)
            child.interrupt()
            let run = await child.finish(timeout: 30)
            #expect(run.exitedWith0, "\(name) stopped with SIGINT: \(run.status) \(run.stderr)")
            #expect(exec?[1] == String(me), "EXEC of \(program) (pid \(pid), parent \(me)) missing or wrong: \(exec?[0] ?? "none"); output ends:\n\(run.stdout.suffix(3000))")
            #expect(exit?[1] == String(me), "EXIT of \(program) (pid \(pid), parent \(me)) missing or wrong: \(exit?[0] ?? "none"); output ends:\n\(run.stdout.suffix(3000))")
            if let exec, let exit {
                let lines = TemplateHarness.lines(run.stdout)
                #expect((lines.firstIndex(of: exec[0]) ?? .max) < (lines.firstIndex(of: exit[0]) ?? -1), "EXIT printed before EXEC")
            }
        }

        /// xdp counts packets per IP protocol; run on the loopback of a private network namespace
        /// that sees only the datagrams the test sends.
        static func runXDP(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let namespace = try TemplateHarness.NetworkNamespace("xdp")
            defer { namespace.remove() }
            let child = try TemplateChild(TemplateHarness.ip, namespace.exec([app, "--skb", "-d", "120", "lo"]), in: dir)
            let attached = await child.waitForLine(TemplateHarness.literal("\(name): attached to lo (ifindex 1) in generic mode"), timeout: 30)
            let header = await child.waitForLine("TIME     PROTO      PACKETS", timeout: 30)
            guard attached != nil, header != nil else {
                Issue.record("\(name) --skb lo did not attach: \(await child.finish())")
                return
            }
            let send = try await namespace.sendDatagrams(10)
            #expect(send.status == 0, "sending datagrams: \(send.output)")
            // It prints the totals once a second: stop it once they reach what was sent.
            _ = await child.waitForOutput(timeout: 30) { !TemplateHarness.matches($0, "\(time) UDP +10").isEmpty }
            child.interrupt()
            let run = await child.finish(timeout: 30)
            #expect(run.exitedWith0, "\(name) --skb lo stopped with SIGINT: \(run)")
            let lines = TemplateHarness.lines(run.stdout)
            #expect(lines.dropFirst(2).allSatisfy { TemplateHarness.match($0, "\(time) \\S+ +\\d+") != nil }, "\(run.stdout)")
            // Nothing else sends UDP in this namespace: the final total is exactly what was sent.
            let udp = TemplateHarness.matches(run.stdout, "\(time) UDP +(\\d+)").map { Int($0[1]) ?? -1 }
            #expect(udp.last == 10, "UDP counts \(udp) in:\n\(run.stdout)")
            // The link was the only thing holding the program: the interface has no XDP left.
            let link = try runProcess(TemplateHarness.ip, ["-n", namespace.name, "link", "show", "dev", "lo"])
            #expect(link.status == 0 && !link.stdout.contains("xdp"), "after exit: \(link.output)")

            // lo has no native XDP: the app says so and points at --skb.
            let native = try await TemplateHarness.run(TemplateHarness.ip, namespace.exec([app, "--native", "-d", "1", "lo"]), in: dir)
            #expect(native.status == 1 && native.stdout.isEmpty, "\(name) --native: \(native)")
            #expect(native.stderr == "\(name): failed to attach XDP program to lo: Operation not supported (driver has no native XDP; try --skb)\n",
                    "\(name) --native: \(native)")
        }

        /// tc logs each packet received on an interface from a clsact ingress classifier.
        static func runTC(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let namespace = try TemplateHarness.NetworkNamespace("tc")
            defer { namespace.remove() }
            let tc = FileManager.default.isExecutableFile(atPath: "/usr/sbin/tc") ? "/usr/sbin/tc" : "/sbin/tc"
            let qdiscs = { try runProcess(TemplateHarness.ip, namespace.exec([tc, "qdisc", "show", "dev", "lo"])) }
            #expect(try !qdiscs().stdout.contains("clsact"), "a fresh namespace has a clsact qdisc")

            let child = try TemplateChild(TemplateHarness.ip, namespace.exec([app, "-d", "120", "lo"]), in: dir)
            let attached = await child.waitForLine(TemplateHarness.literal("\(name): attached to lo ingress (handle ") + #"0x[0-9a-f]+, priority \d+\)"#, timeout: 30)
            let header = await child.waitForLine("TIME     PROTO   LEN    SOURCE -> DESTINATION", timeout: 30)
            guard attached != nil, header != nil else {
                Issue.record("\(name) lo did not attach: \(await child.finish())")
                return
            }
            let during = try qdiscs()
            #expect(during.stdout.contains("qdisc clsact"), "while attached: \(during.output)")
            let send = try await namespace.sendDatagrams(3)
            #expect(send.status == 0, "sending datagrams: \(send.output)")
            // 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + "hi\n" = 45 bytes, one line per datagram.
            let datagram = #"\#(time) UDP +45 +127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9999"#
            _ = await child.waitForOutput(timeout: 30) { TemplateHarness.matches($0, datagram).count >= 3 }
            child.interrupt()
            let run = await child.finish(timeout: 30)
            #expect(run.exitedWith0, "\(name) lo stopped with SIGINT: \(run)")
            let udp = TemplateHarness.matches(run.stdout, datagram)
            #expect(udp.count == 3, "\(run.stdout)")
            #expect(TemplateHarness.lines(run.stdout).filter { $0.contains(" UDP ") }.count == 3, "other UDP lines: \(run.stdout)")
            // It created the clsact qdisc, so it removed it on exit.
            let after = try qdiscs()
            #expect(after.status == 0 && !after.stdout.contains("clsact"), "after exit: \(after.output)")
        }

        /// iter lists processes with a task iterator.
        static func runIter(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let sleeper = try TemplateChild("/bin/sleep", ["30"], in: dir)
            defer { sleeper.kill() }
            let run = try await TemplateHarness.run(app, [], in: dir, timeout: 20)
            #expect(run.exitedWith0 && run.stderr.isEmpty, "\(name): \(run)")
            let lines = TemplateHarness.lines(run.stdout)
            try #require(!lines.isEmpty, "\(run)")
            #expect(TemplateHarness.match(lines[0], "PID +TID +PPID +UID +COMM") != nil, "header: \(lines[0])")
            let s = sleeper.pid
            let sleep = TemplateHarness.matches(run.stdout, "\(s) +\(s) +\(getpid()) +0 +sleep")
            #expect(sleep.count == 1, "no single line for sleep (pid \(s), parent \(getpid())) in:\n\(run.stdout)")
            // Without -t, one line per process: the thread id is the process id.
            let rows = lines.dropFirst().map { TemplateHarness.match($0, #"(\d+) +(\d+) +\d+ +\d+ +.*"#) }
            #expect(rows.allSatisfy { $0 != nil && $0![1] == $0![2] }, "\(run.stdout)")
            #expect(rows.count > 2, "\(run.stdout)")
        }

        /// usdt fires its own USDT probe every interval and prints each hit's arguments.
        static func runUSDT(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let child = try TemplateChild(app, ["-d", "2", "-i", "200"], in: dir)
            let pid = child.pid
            let run = await child.finish(timeout: 20)
            #expect(run.exitedWith0, "\(name) -d 2 -i 200: \(run)")
            let lines = TemplateHarness.lines(run.stdout)
            #expect(lines.first == "\(name): firing USDT probe \(name):tick every 200 ms in pid \(pid)", "\(run)")
            let ticks = TemplateHarness.matches(run.stdout, "\(time) +\(pid) +\(name) +(\\d+) +\\d+ +3 +tick (\\d+)")
            #expect(ticks.allSatisfy { $0[1] == $0[2] }, "SEQ and the message's number differ: \(run.stdout)")
            // Every firing arrives, in order: 1, 2, 3, ...
            #expect(ticks.count >= 3 && ticks.map { Int($0[1]) ?? 0 } == Array(1...max(ticks.count, 1)), "\(run.stdout)")
            #expect(ticks.count == lines.count - 2, "lines other than the two headers and the ticks: \(run.stdout)")
        }

        /// profile samples the stacks of a busy process.
        static func runProfile(_ spec: Spec, app: String, in dir: String) async throws {
            let name = spec.name
            let spinner = try TemplateChild("/bin/sh", ["-c", "while :; do :; done"], in: dir)
            defer { spinner.kill() }
            let s = spinner.pid
            let run = try await TemplateHarness.run(app, ["-d", "2", "-p", "\(s)"], in: dir, timeout: 20)
            spinner.kill()
            #expect(run.exitedWith0, "\(name) -d 2 -p \(s): \(run)")
            let lines = TemplateHarness.lines(run.stdout)
            try #require(lines.count >= 2, "\(run)")
            #expect(TemplateHarness.match(lines[0], TemplateHarness.literal(name) + #": sampling \d+ CPUs at 49 Hz"#) != nil, "\(lines[0])")
            #expect(lines[1] == "TIME     CPU PID     TID     COMM             KFRAMES UFRAMES", "\(lines[1])")
            // Each sample: a line for pid S, then exactly KFRAMES kernel and UFRAMES user frames.
            var samples = 0, frames = 0, index = 2
            while index < lines.count {
                guard let sample = TemplateHarness.match(lines[index], "\(time) +\\d+ +\(s) +\(s) +sh +(\\d+|-) +(\\d+|-)") else {
                    Issue.record("line \(index + 1) is not a sample of pid \(s): '\(lines[index])' in:\n\(run.stdout)")
                    break
                }
                samples += 1
                index += 1
                for (kind, count) in [("k", Int(sample[1]) ?? 0), ("u", Int(sample[2]) ?? 0)] {
                    for _ in 0..<count {
                        guard index < lines.count, TemplateHarness.match(lines[index], "    \(kind) 0x[0-9a-f]{16}") != nil else {
                            Issue.record("expected \(count) '\(kind)' frames after '\(sample[0])' in:\n\(run.stdout)")
                            return
                        }
                        index += 1
                        frames += 1
                    }
                }
            }
            #expect(samples >= 1 && frames >= 1, "\(samples) samples, \(frames) frames:\n\(run.stdout)")
        }
    }
}
