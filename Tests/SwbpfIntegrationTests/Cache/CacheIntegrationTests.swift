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

/// Debian's nginx (nginx-light has the WebDAV module) as a Bazel HTTP remote cache on a free
/// loopback port, with a config, prefix and temporary directories of its own; stopped when the
/// value goes away.
final class WebDAVServer {
    let directory: TemporaryProject
    let port: Int
    let tls: Bool
    var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)/swbpf" }
    var data: String { directory.path + "/data" }
    private var process: Process?

    /// With `tls`, https with a self-signed certificate: one no CA store trusts.
    init(tls: Bool = false) throws {
        directory = try TemporaryProject("nginx")
        port = try Self.freePort()
        self.tls = tls
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let root = directory.path
        if tls {
            let made = try runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", root + "/key.pem",
                                                           "-out", root + "/cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1"])
            guard made.status == 0 else { throw WebDAVError(message: "openssl: \(made.output)") }
        }
        let listen = tls ? "listen 127.0.0.1:\(port) ssl;\n        ssl_certificate \(root)/cert.pem;\n        ssl_certificate_key \(root)/key.pem;"
            : "listen 127.0.0.1:\(port);"
        try directory.write("nginx.conf", """
            daemon off;
            master_process off;
            worker_processes 1;
            error_log \(root)/error.log;
            pid \(root)/nginx.pid;
            events { worker_connections 64; }
            http {
                access_log \(root)/access.log;
                client_body_temp_path \(root)/body;
                proxy_temp_path \(root)/proxy;
                fastcgi_temp_path \(root)/fastcgi;
                uwsgi_temp_path \(root)/uwsgi;
                scgi_temp_path \(root)/scgi;
                client_max_body_size 256m;
                server {
                    \(listen)
                    root \(root)/data;
                    location / {
                        dav_methods PUT;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                    }
                }
            }

            """)
        try start()
    }

    func start() throws {
        let nginx = try #require(["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                 "nginx is missing: scripts/system-packages installs nginx-light")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-p", directory.path, "-c", directory.path + "/nginx.conf", "-e", directory.path + "/error.log"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // Test threads block SIGTERM and more; nginx would inherit that mask. Spawn with none.
        var none = sigset_t(), saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
        self.process = process
        // Ready when it answers (a 404 for a name it does not hold), or, with TLS, accepts.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if tls, Self.accepts(port: port) { return }
            if let address = HTTPAddress(url),
               case .success(let response) = HTTPClient.exchange(method: "GET", address: address, path: "/ac/probe", headers: [], body: [],
                                                                 timeoutSeconds: 1, limit: 1 << 16), response.status == 404 { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? directory.read("error.log")) ?? ""
        throw WebDAVError(message: "nginx did not start on port \(port): \(log)")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        // Gone at once, as a crashed or unplugged server is.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { stop() }

    /// The blobs and records the server holds.
    var files: [String] { allFiles(under: data) }

    /// Whether something accepts connections on the loopback `port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw WebDAVError(message: "bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct WebDAVError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}

/// The shared cache with the real tools: outputs that do not depend on the checkout's path, a
/// fresh clone restored from the local cache, and a second machine restored from nginx.
@Suite(.serialized, .timeLimit(.minutes(20))) struct CacheIntegrationTests {
    static let apps = ThreeApps.apps

    /// Every product but the PCH (which holds its checkout's absolute paths, and is never cached).
    static func products(_ project: TemporaryProject) -> [String: Data] {
        project.products(apps: apps).filter { $0.key != ".output/vmlinux.h.pch" }
    }

    /// The JSON events of a build, by event name.
    static func events(_ stdout: String) -> [[String: Any]] {
        stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func restored(_ stdout: String) -> [String: String] {
        var result: [String: String] = [:]
        for event in events(stdout) where event["event"] as? String == "restored" {
            result[event["output"] as? String ?? ""] = event["source"] as? String
        }
        return result
    }

    static func ran(_ stdout: String) -> [String] {
        events(stdout).filter { $0["event"] as? String == "started" }.compactMap { $0["output"] as? String }
    }

    /// A cache directory and a HOME of their own: another user, or another machine.
    final class Machine {
        let home: TemporaryProject
        init(_ label: String) throws { home = try TemporaryProject(label) }
        func environment(remote: String? = nil, extra: [String: String] = [:]) -> [String: String] {
            var environment = ["SWBPF_CACHE_DIR": home.path + "/cache", "HOME": home.path, "SWBPF_CACHE": "1"]
            if let remote { environment["SWBPF_REMOTE_CACHE"] = remote }
            return environment.merging(extra) { $1 }
        }
    }

    @Test func theSameSourcesGiveTheSameBytesInAnyDirectory() throws {
        let first = try ThreeApps.make("here"), second = try ThreeApps.make("somewhere-else")
        for project in [first, second] {
            let build = try project.swbpf("build", "--no-cache", "-j", "2")
            try #require(build.status == 0, "\(build.output)")
        }
        let here = Self.products(first), there = Self.products(second)
        #expect(here.count == 16, "\(here.keys.sorted())")
        #expect(Set(here.keys) == Set(there.keys))
        for (name, bytes) in here { #expect(there[name] == bytes, "\(name) depends on the checkout's path") }
    }

    @Test func aFreshCloneGetsEveryStepFromTheLocalCacheAndNeverBuildsThePCH() throws {
        let machine = try Machine("home")
        let first = try ThreeApps.make("original")
        let built = try first.swbpf("build", "--format", "json", "-j", "2", environment: machine.environment())
        try #require(built.status == 0, "\(built.output)")
        #expect(Self.restored(built.stdout).isEmpty)

        let clone = try ThreeApps.make("clone")
        let restored = try clone.swbpf("build", "--format", "json", "-j", "2", "--explain", environment: machine.environment())
        try #require(restored.status == 0, "\(restored.output)")
        #expect(Self.ran(restored.stdout).isEmpty, "ran: \(Self.ran(restored.stdout))")
        #expect(Self.restored(restored.stdout).count == 16 && Set(Self.restored(restored.stdout).values) == ["local"])
        #expect(restored.stderr.contains("restored from the local cache (entry "), "\(restored.stderr)")
        #expect(Self.products(clone) == Self.products(first))
        // Recorded as if it had run: nothing to do next, and the clone's objects load like the original's.
        expectNothingToDo(try clone.swbpf("build", environment: machine.environment()), steps: 17)
        // --no-cache builds for real.
        let uncached = try ThreeApps.make("uncached")
        let real = try uncached.swbpf("build", "--format", "json", "--no-cache", environment: machine.environment())
        #expect(real.status == 0 && Self.restored(real.stdout).isEmpty && Self.ran(real.stdout).count == 17, "\(real.output)")

        let report = try Swbpf.run(["cache"], in: clone.path, environment: machine.environment())
        #expect(report.status == 0, "\(report.output)")
        #expect(report.stdout.contains("cache: \(machine.home.path)/cache") && report.stdout.contains("16 local, 0 remote"), "\(report.stdout)")
        let cleared = try Swbpf.run(["cache", "clear"], in: clone.path, environment: machine.environment())
        let left = try LocalCacheStore.open(machine.home.path + "/cache", create: false)?.inventory().files
        #expect(cleared.status == 0 && left?.isEmpty == true)
    }

    @Test func aSecondMachineGetsEveryStepFromTheRemoteCache() throws {
        let server = try WebDAVServer()
        let writer = try Machine("writer"), reader = try Machine("reader")
        let first = try ThreeApps.make("uploader")
        let built = try first.swbpf("build", "-j", "2", environment: writer.environment(remote: server.url))
        try #require(built.status == 0, "\(built.output)")
        #expect(!built.stderr.contains("remote cache"), "\(built.stderr)")
        #expect(server.files.contains { $0.hasPrefix("swbpf/cas/") } && server.files.contains { $0.hasPrefix("swbpf/ac/") }, "\(server.files)")

        let clone = try ThreeApps.make("downloader")
        let restored = try clone.swbpf("build", "--format", "json", "-j", "2", environment: reader.environment(remote: server.url))
        try #require(restored.status == 0, "\(restored.output)")
        #expect(Self.ran(restored.stdout).isEmpty, "ran: \(Self.ran(restored.stdout)); \(restored.stderr)")
        #expect(Set(Self.restored(restored.stdout).values) == ["remote"] && Self.restored(restored.stdout).count == 16)
        #expect(Self.products(clone) == Self.products(first))
        // What came from the remote is in the reader's local cache now.
        let again = try ThreeApps.make("downloader-again")
        server.stop()
        let local = try again.swbpf("build", "--format", "json", environment: reader.environment(remote: server.url))
        #expect(local.status == 0 && Set(Self.restored(local.stdout).values) == ["local"] && Self.restored(local.stdout).count == 16,
                "\(local.output)")
        let report = try Swbpf.run(["cache"], in: again.path, environment: reader.environment(remote: server.url))
        #expect(report.stdout.contains("16 local, 16 remote") && report.stdout.contains("remote: \(server.url)"), "\(report.stdout)")
    }

    @Test func aServerThatStopsMidBuildGivesNotesAndACorrectLocalBuild() throws {
        let server = try WebDAVServer()
        let writer = try Machine("writer")
        let reference = try ThreeApps.make("reference")
        try #require(try reference.swbpf("build", "--no-cache", "-j", "2").status == 0)

        // A cold build that uploads as it goes; the server dies once the first step is done,
        // seconds before the build is.
        let project = try ThreeApps.make("stranded")
        let child = try Child(Swbpf.path, ["build", "-C", project.path, "-j", "2"], environment: writer.environment(remote: server.url))
        let line = child.waitForLine(timeout: 120) { $0.hasPrefix("  VMLINUX ") }
        server.stop()
        let (status, result) = child.finish()
        try #require(line != nil, "no first step: \(result.output)")
        #expect(status == .exited(0), "\(result.output)")
        let notes = result.stderr.split(separator: "\n").filter { $0.hasPrefix("note: remote cache \(server.url)") }
        #expect(notes.count == 1 && notes[0].contains("building locally"), "one note, then no more requests: \(result.stderr)")
        #expect(Set(stepLines(result.stdout)) == StepID.everything(Self.apps), "\(result.stdout)")
        #expect(Self.products(project) == Self.products(reference))
    }

    @Test func aCorruptBlobOnTheServerIsDetectedAndRebuilt() throws {
        let server = try WebDAVServer()
        let writer = try Machine("writer"), reader = try Machine("reader")
        let first = try ThreeApps.make("uploader")
        try #require(try first.swbpf("build", "-j", "2", environment: writer.environment(remote: server.url)).status == 0)
        let object = try #require(first.data(".output/b.tmp.bpf.o"))
        let blob = server.data + "/swbpf/cas/" + SHA256Hex.of(Array(object))
        #expect(FileManager.default.fileExists(atPath: blob))
        var damaged = object
        damaged[damaged.count / 2] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: blob))

        let clone = try ThreeApps.make("careful")
        let build = try clone.swbpf("build", "--format", "json", "-j", "2", environment: reader.environment(remote: server.url))
        try #require(build.status == 0, "\(build.output)")
        #expect(Set(Self.ran(build.stdout)) == [".output/vmlinux.h.pch", ".output/b.tmp.bpf.o"], "ran: \(Self.ran(build.stdout))")
        #expect(Self.products(clone) == Self.products(first))
        // The damaged blob never reached the local cache.
        let local = try #require(try LocalCacheStore.open(reader.home.path + "/cache", create: false))
        #expect(try local.read(.cas, SHA256Hex.of(Array(object)), limit: object.count).map { $0 == Array(object) } ?? true)
    }

    /// https goes through the system's libcurl and its CA store: a certificate no CA signed is
    /// refused, which is one note and a local build.
    @Test func anHTTPSRemoteWithAnUntrustedCertificateIsANoteAndALocalBuild() throws {
        let server = try WebDAVServer(tls: true)
        let project = try ThreeApps.make("untrusted")
        let build = try project.swbpf("build", "-j", "2", environment: try Machine("tls").environment(remote: server.url))
        #expect(build.status == 0, "\(build.output)")
        let notes = build.stderr.split(separator: "\n").filter { $0.hasPrefix("note: remote cache \(server.url)") }
        #expect(notes.count == 1 && notes[0].contains("certificate"), "\(build.stderr)")
        #expect(server.files.isEmpty)
    }

    @Test func aReadOnlyRemoteIsNeverWritten() throws {
        let server = try WebDAVServer()
        let reader = try Machine("ci-reader")
        let project = try ThreeApps.make("read-only")
        let build = try project.swbpf("build", "-j", "2", environment: reader.environment(remote: server.url, extra: ["SWBPF_REMOTE_CACHE_READ_ONLY": "1"]))
        #expect(build.status == 0, "\(build.output)")
        #expect(server.files.isEmpty, "a read-only remote was written: \(server.files)")
    }

    /// The PCH is transparent: for every template, the objects built with it equal those built
    /// without it (the build's commands without `-include-pch`, run by hand).
    @Test func everyTemplateGivesTheSameObjectsWithoutThePCH() throws {
        let templates = try Swbpf.run(["templates"], in: "/").stdout.split(separator: "\n")
            .filter { !$0.hasPrefix(" ") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(templates.count >= 12, "\(templates)")
        for template in templates {
            let project = try TemporaryProject("pch-\(template)")
            try FileManager.default.removeItem(atPath: project.path)
            try #require(try Swbpf.run(["new", project.path, "--template", template, "--name", "app"], in: "/").status == 0)
            let build = try project.swbpf("build", "--format", "json", "-j", "2")
            try #require(build.status == 0, "\(template): \(build.output)")
            let plan = try #require(Self.events(build.stdout).first { $0["event"] as? String == "plan" })
            let compiles = (plan["steps"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "bpfCompile" }
            for compile in compiles {
                var argv = compile["argv"] as? [String] ?? []
                guard let pch = argv.firstIndex(of: "-include-pch") else { continue }
                argv.removeSubrange(pch...(pch + 1))
                let output = try #require(compile["output"] as? String)
                let outputIndex = try #require(argv.lastIndex(of: "-o")) + 1
                argv[outputIndex] = output + ".without-pch"
                let plain = try runProcess("/usr/bin/env", argv, in: project.path)
                try #require(plain.status == 0, "\(template): \(plain.output)")
                // Linked as the build links it, the two must be the same bytes.
                for (object, linked) in [(output, ".with.o"), (output + ".without-pch", ".without.o")] {
                    let link = try runProcess("/usr/sbin/bpftool", ["gen", "object", project.path + "/" + linked, project.path + "/" + object])
                    try #require(link.status == 0, "\(template): \(link.output)")
                }
                #expect(project.data(".with.o") != nil && project.data(".with.o") == project.data(".without.o"),
                        "\(template): \(output) differs with and without the PCH")
            }
            #expect(template == "minimal" || compiles.contains { ($0["argv"] as? [String] ?? []).contains("-include-pch") },
                    "\(template) does not use the PCH")
        }
    }
}
