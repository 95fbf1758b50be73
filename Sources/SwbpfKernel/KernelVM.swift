import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// Why a kernel could not be booted.
public enum KernelVMError: DiagnosticError, Equatable {
    case missingPackage(tool: String, package: String)
    case noBootImage(kernel: String)
    case bootFailed(kernel: String, command: String, console: String)
    case noKernels

    public var diagnostic: Diagnostic {
        switch self {
        case .missingPackage(let tool, let package):
            return Diagnostic(.error, "--vm boots each kernel in a virtual machine and needs \(tool), which is not installed",
                              help: "apt-get install \(package)")
        case .noKernels:
            return Diagnostic(.error, "--vm boots the kernels named with --kernel, and none is named",
                              help: "name them: swbpf verify --vm --kernel 6.1 --kernel 6.12 (or [verify] kernels = [\"6.1\"] in swbpf.toml)")
        case .noBootImage(let kernel):
            return Diagnostic(.error, "kernel \(kernel) is BTF or a vmlinux only: --vm needs a bootable image",
                              help: "name a Debian version (6.1), a .deb or a vmlinuz/bzImage instead")
        case .bootFailed(let kernel, let command, let console):
            return Diagnostic(.error, "kernel \(kernel) did not finish loading the programs in its virtual machine: \(command)",
                              notes: ["its console's last lines:"] + console.split(separator: "\n").suffix(15).map { "  " + $0 },
                              help: "the kernel must have BPF, BTF, the 8250 serial console and initramfs support built in (Debian's cloud kernels do)")
        }
    }
}

/// A small initramfs of busybox, the statically linked loader and the objects, whose /init loads
/// every object and prints each loader's records, length-prefixed, on the second serial port.
package enum VMInitramfs {
    /// The objects go in as /objects/N.bpf.o, in this order.
    package static func archive(busybox: [UInt8], loader: [UInt8], objects: [[UInt8]]) -> [UInt8] {
        var writer = CpioWriter()
        for directory in ["bin", "dev", "proc", "sys", "tmp", "objects"] { writer.directory(directory) }
        writer.file("bin/busybox", busybox, mode: 0o755)
        writer.file("bin/swbpf-loader", loader, mode: 0o755)
        for (index, object) in objects.enumerated() { writer.file("objects/\(index).bpf.o", object, mode: 0o644) }
        writer.file("init", Array(initScript(objects: objects.count).utf8), mode: 0o755)
        return writer.finish()
    }

    /// The records reach the host through ttyS1 in raw mode (the console, ttyS0, carries the
    /// kernel's messages): `object N STATUS LENGTH`, then LENGTH bytes of the loader's output.
    package static func initScript(objects: Int) -> String {
        """
        #!/bin/busybox sh
        export PATH=/bin
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        mount -t bpf bpf /sys/fs/bpf
        mount -t tracefs tracefs /sys/kernel/tracing
        stty -F /dev/ttyS1 raw -echo
        mkdir /sys/fs/bpf/swbpf
        for index in $(seq 0 \(objects - 1)); do
            swbpf-loader verify /objects/$index.bpf.o /sys/fs/bpf/swbpf > /tmp/records 2>&1
            status=$?
            echo "object $index $status $(wc -c < /tmp/records)" > /dev/ttyS1
            cat /tmp/records > /dev/ttyS1
        done
        swbpf-loader probe /sys/kernel/tracing > /tmp/records 2>&1
        echo "probe 0 $? $(wc -c < /tmp/records)" > /dev/ttyS1
        cat /tmp/records > /dev/ttyS1
        echo "swbpf-vm-done" > /dev/ttyS1
        poweroff -f

        """
    }

    /// What the guest sent: each object's loader output and status, and the probe's output.
    package struct Records: Equatable {
        package struct Run: Equatable {
            package var status: Int32
            package var output: [UInt8]
        }

        package var objects: [Int: Run] = [:]
        package var probe: [UInt8]?
        package var finished = false
    }

    package static func parse(_ bytes: [UInt8]) -> Records {
        var reader = LoaderOutputReader(bytes)
        var records = Records()
        while let (key, value) = reader.nextLine() {
            let words = value.split(separator: " ").compactMap { Int($0) }
            if key == "swbpf-vm-done" { records.finished = true; continue }
            guard key == "object" || key == "probe", words.count == 3, let output = reader.bytes(count: words[2]) else { continue }
            if key == "probe" { records.probe = output } else { records.objects[words[0]] = .init(status: Int32(words[1]), output: output) }
        }
        return records
    }
}

/// The newc cpio format the kernel unpacks an initramfs from.
package struct CpioWriter {
    private var bytes: [UInt8] = []
    private var inode = 1

    package mutating func directory(_ name: String) { entry(name, mode: 0o040755, data: []) }

    package mutating func file(_ name: String, _ data: [UInt8], mode: UInt32) { entry(name, mode: 0o100000 | mode, data: data) }

    package mutating func finish() -> [UInt8] {
        entry("TRAILER!!!", mode: 0, data: [])
        return bytes
    }

    private mutating func entry(_ name: String, mode: UInt32, data: [UInt8]) {
        let nameBytes = Array(name.utf8) + [0]
        let fields: [UInt32] = [UInt32(inode), mode, 0, 0, 1, 0, UInt32(data.count), 0, 0, 0, 0, UInt32(nameBytes.count), 0]
        inode += 1
        bytes += Array("070701".utf8)
        for field in fields {
            let digits = String(field, radix: 16, uppercase: true)
            bytes += Array((String(repeating: "0", count: 8 - digits.count) + digits).utf8)
        }
        bytes += nameBytes
        pad()
        bytes += data
        pad()
    }

    private mutating func pad() { bytes += [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }
}

/// Boots kernels with qemu-system-x86_64: KVM where it works, TCG emulation otherwise.
package struct KernelVM: Sendable {
    package let qemu: String
    package let useKVM: Bool

    /// TCG on a loaded machine takes about half a minute per kernel; a guest still silent after
    /// this long is stuck.
    package static let bootTimeout: Duration = .seconds(600)
    /// A KVM guest prints the kernel's banner within a second or two; a hung one (nested
    /// virtualisation that does not work) prints nothing after the firmware's.
    package static let kvmProbeTimeout: Duration = .seconds(8)

    /// qemu, and whether KVM boots `probeImage` (a short boot without an initramfs).
    package static func prepare(searchPath: String?, probeImage: String, scratch: String) async throws -> (vm: KernelVM, kvmProblem: String?) {
        guard let qemu = FileSystem.onPath("qemu-system-x86_64", searchPath: searchPath) else {
            throw KernelVMError.missingPackage(tool: "qemu-system-x86_64", package: "qemu-system-x86")
        }
        var problem: String?
        if access("/dev/kvm", R_OK | W_OK) != 0 {
            problem = "/dev/kvm is \(FileSystem.exists("/dev/kvm") ? "not usable by this user" : "missing")"
        } else {
            let console = FileSystem.join(scratch, "kvm-probe.console")
            let booted = try await boot(qemu: qemu, kvm: true, image: probeImage, initramfs: nil, console: console, channel: nil,
                                        timeout: kvmProbeTimeout, until: "Linux version")
            unlink(console)
            if !booted {
                problem = "a test boot with -accel kvm did not reach the kernel within \(kvmProbeTimeout.components.seconds) s"
            }
        }
        return (KernelVM(qemu: qemu, useKVM: problem == nil), problem)
    }

    /// Boots `image` with `initramfs`; the records the guest sent on ttyS1.
    package func run(kernel: String, image: String, initramfs: String, scratch: String) async throws -> VMInitramfs.Records {
        let console = FileSystem.join(scratch, "console"), channel = FileSystem.join(scratch, "records")
        unlink(channel)
        let finished = try await Self.boot(qemu: qemu, kvm: useKVM, image: image, initramfs: initramfs, console: console,
                                           channel: channel, timeout: Self.bootTimeout, until: nil)
        let records = VMInitramfs.parse(FileSystem.read(channel) ?? [])
        guard finished, records.finished else {
            throw KernelVMError.bootFailed(kernel: kernel, command: Shell.join(Self.arguments(qemu: qemu, kvm: useKVM, image: image, initramfs: initramfs, channel: channel)),
                                           console: String(decoding: FileSystem.read(console) ?? [], as: UTF8.self))
        }
        return records
    }

    package static func arguments(qemu: String, kvm: Bool, image: String, initramfs: String?, channel: String?) -> [String] {
        // Without noapic and no_timer_check the kernel's timer check fails under TCG and it panics;
        // panic=-1 with -no-reboot turns a panic (and poweroff) into qemu's exit.
        var arguments = [qemu, "-accel", kvm ? "kvm" : "tcg", "-cpu", "max", "-m", "512", "-smp", "1", "-display", "none",
                         "-no-reboot", "-nic", "none", "-serial", "stdio", "-kernel", image,
                         "-append", "console=ttyS0 panic=-1 noapic no_timer_check"]
        if let initramfs { arguments += ["-initrd", initramfs] }
        if let channel { arguments += ["-chardev", "file,id=records,path=\(channel)", "-device", "isa-serial,chardev=records"] }
        return arguments
    }

    /// Runs qemu until it exits (true) or `timeout` passes (false, qemu stopped); with `until`,
    /// stops it as soon as the console shows that text (true).
    private static func boot(qemu: String, kvm: Bool, image: String, initramfs: String?, console: String, channel: String?,
                             timeout: Duration, until text: String?) async throws -> Bool {
        let argv = arguments(qemu: qemu, kvm: kvm, image: image, initramfs: initramfs, channel: channel)
        unlink(console)
        let request = ProcessRequest(executable: qemu, arguments: Array(argv.dropFirst()), workingDirectory: FileSystem.split(console).directory,
                                     standardOutputFile: console)
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = try await SystemProcessRunner().run(request)
                // qemu exits at once when KVM refuses the CPU model: that is no boot.
                guard let text else { return true }
                return String(decoding: FileSystem.read(console) ?? [], as: UTF8.self).contains(text)
            }
            group.addTask {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(250))
                    if let text, let seen = FileSystem.read(console), String(decoding: seen, as: UTF8.self).contains(text) { return true }
                }
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

