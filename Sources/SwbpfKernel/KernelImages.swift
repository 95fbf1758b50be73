import SwbpfBasics
#if canImport(Glibc)
import Glibc
#endif

/// Another kernel to check programs against: what `--kernel` named, its BTF (always), and the
/// image to boot (when it came from a package or a vmlinuz).
public struct KernelImage: Sendable, Equatable, Codable {
    /// What the user wrote (`6.1`, a file): the column title of the report.
    public var name: String
    /// Where it came from: the Debian package and its version, or the file.
    public var origin: String
    /// The kernel's release string (from the vmlinuz header), when known.
    public var release: String?
    /// Raw BTF (the `.BTF` section), in the shared cache.
    public var btf: String
    /// The bzImage to boot, in the shared cache; nil for a vmlinux or a BTF file.
    public var bootImage: String?
}

/// Why a kernel named with `--kernel` could not be turned into BTF and an image.
public enum KernelImageError: DiagnosticError, Equatable {
    case noSuchKernel(name: String, searched: String)
    case aptFailed(command: String, output: String)
    case missingTool(tool: String, package: String, purpose: String)
    case unreadable(path: String, reason: String)
    case notAKernel(path: String, reason: String)
    case noBTF(path: String)
    case toolFailed(command: String, output: String)

    public var diagnostic: Diagnostic {
        switch self {
        case .noSuchKernel(let name, let searched):
            return Diagnostic(.error, "no Debian kernel package matches '\(name)' (looked for \(searched))",
                              notes: ["a kernel is a Debian version (6.1, 6.12), a full package version (6.1.192-3), a package name (linux-image-...), or a file: a .deb, a vmlinuz/bzImage, an ELF vmlinux or a raw BTF file"],
                              help: "refresh apt's lists (apt-get update) and list what is there: apt-cache search --names-only '^linux-image-.*-cloud-amd64-unsigned$'")
        case .aptFailed(let command, let output):
            return Diagnostic(.error, "apt failed: \(command)\n\(output)", help: "check the network and apt's sources, then run apt-get update")
        case .missingTool(let tool, let package, let purpose):
            return Diagnostic(.error, "\(tool) is not installed; swbpf needs it to \(purpose)", help: "apt-get install \(package)")
        case .unreadable(let path, let reason):
            return Diagnostic(.error, "cannot read the kernel file \(path): \(reason)")
        case .notAKernel(let path, let reason):
            return Diagnostic(.error, "\(path) is not a kernel swbpf can read: \(reason)",
                              help: "give a .deb of a linux-image package, a vmlinuz/bzImage, an ELF vmlinux or a raw BTF file (/sys/kernel/btf/vmlinux)")
        case .noBTF(let path):
            return Diagnostic(.error, "the kernel \(path) carries no BTF (.BTF section): it was built without CONFIG_DEBUG_INFO_BTF",
                              help: "CO-RE needs the kernel's BTF; for such kernels make a small BTF with [app.NAME] btf-for (bpftool gen min_core_btf) from a BTF you get elsewhere (BTFHub)")
        case .toolFailed(let command, let output):
            return Diagnostic(.error, "\(command) failed\n\(output)")
        }
    }
}

/// Turns `--kernel` words into kernel images, with apt for Debian versions, keeping each image's
/// BTF and boot image in the shared cache under the digest of the file they came from.
public struct KernelImages: Sendable {
    /// `<cache>/kernels`.
    public let directory: String
    public let searchPath: String?

    public init(cacheDirectory: String, searchPath: String?) {
        self.directory = FileSystem.join(cacheDirectory, "kernels")
        self.searchPath = searchPath
    }

    /// The kernel `name` names: an existing file (relative to `base`), or a Debian package fetched
    /// with apt-get download.
    public func resolve(_ name: String, base: String) async throws -> KernelImage {
        let path = FileSystem.absolute(name, base: base)
        if name.contains("/") || FileSystem.exists(path) {
            return try await image(file: path, name: name, origin: path)
        }
        let package = try await debianPackage(name)
        let deb = try await download(package)
        return try await image(file: deb, name: name, origin: "\(package.name) \(package.version)")
    }

    /// A Debian kernel package: its name and version as apt knows them.
    package struct DebianPackage: Equatable {
        package var name: String
        package var version: String
    }

    /// The cloud flavour needs no modules and boots with the serial console; unsigned, because
    /// qemu boots it directly.
    package static let flavour = "-cloud-amd64-unsigned"

    /// `6.1` is the newest 6.1 package; `6.1.192-3` is the package with that version; a
    /// `linux-image-...` name is that package.
    package func debianPackage(_ name: String) async throws -> DebianPackage {
        let candidates: [String]
        let wantedVersion: String?
        if name.hasPrefix("linux-image-") {
            candidates = [name]
            wantedVersion = nil
        } else {
            let numbers = name.split(whereSeparator: { !$0.isNumber }).prefix(2)
            guard numbers.count == 2, name.first?.isNumber == true else {
                throw KernelImageError.noSuchKernel(name: name, searched: "a version such as 6.1 or 6.1.192-3")
            }
            let series = numbers.joined(separator: ".")
            let pattern = "^linux-image-" + series.replacing(".", with: "\\.") + "[.-].*" + Self.flavour + "$"
            let found = try await apt("apt-cache", ["search", "--names-only", pattern])
            candidates = found.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            wantedVersion = name == series ? nil : name
            if candidates.isEmpty {
                throw KernelImageError.noSuchKernel(name: name, searched: "packages matching \(pattern)")
            }
        }
        // One line per package and version: ` name | version | archive`.
        let madison = try await apt("apt-cache", ["madison"] + candidates)
        var versions: [DebianPackage] = []
        for line in madison.split(separator: "\n") {
            let fields = line.split(separator: "|").map { String($0).trimmed() }
            if fields.count >= 2, candidates.contains(fields[0]) { versions.append(DebianPackage(name: fields[0], version: fields[1])) }
        }
        if let wantedVersion {
            guard let match = versions.first(where: { $0.version == wantedVersion }) else {
                throw KernelImageError.noSuchKernel(name: name, searched: "package version \(wantedVersion) of \(candidates.joined(separator: ", "))")
            }
            return match
        }
        guard let newest = versions.max(by: { Self.versionOrder($0.version, $1.version) }) else {
            throw KernelImageError.noSuchKernel(name: name, searched: candidates.joined(separator: ", "))
        }
        return newest
    }

    /// Orders Debian kernel versions by their numbers (6.1.158-1 < 6.1.192-3), enough for the
    /// versions of one series.
    package static func versionOrder(_ left: String, _ right: String) -> Bool {
        let numbers = { (text: String) in text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } }
        return numbers(left).lexicographicallyPrecedes(numbers(right))
    }

    /// The package's .deb in `<cache>/kernels/debs`, fetched with apt-get download once.
    package func download(_ package: DebianPackage) async throws -> String {
        let debs = FileSystem.join(directory, "debs")
        try FileSystem.createDirectory(debs)
        // apt names the file NAME_VERSION_ARCH.deb with the epoch's colon escaped.
        let prefix = "\(package.name)_\(package.version.replacing(":", with: "%3a"))_"
        if let cached = (FileSystem.list(debs) ?? []).first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".deb") }) {
            return FileSystem.join(debs, cached)
        }
        // Into a private directory first, so a download cut short never looks finished.
        let staging = FileSystem.join(debs, ".download.\(getpid())")
        _ = FileSystem.removeTree(staging)
        try FileSystem.createDirectory(staging)
        defer { _ = FileSystem.removeTree(staging) }
        // _apt cannot write into root's cache directory; apt warns and downloads as root anyway.
        _ = try await apt("apt-get", ["download", "-q", "-o", "APT::Sandbox::User=root", "\(package.name)=\(package.version)"],
                          in: staging)
        guard let file = (FileSystem.list(staging) ?? []).first(where: { $0.hasSuffix(".deb") }) else {
            throw KernelImageError.aptFailed(command: Shell.join(["apt-get", "download", "\(package.name)=\(package.version)"]),
                                             output: "it finished without a .deb")
        }
        try FileSystem.rename(FileSystem.join(staging, file), to: FileSystem.join(debs, file))
        return FileSystem.join(debs, file)
    }

    private func apt(_ tool: String, _ arguments: [String], in directory: String? = nil) async throws -> String {
        guard let path = FileSystem.onPath(tool, searchPath: searchPath) else {
            throw KernelImageError.missingTool(tool: tool, package: "apt", purpose: "fetch Debian kernels")
        }
        let outcome = try await SystemProcessRunner().run(ProcessRequest(
            executable: path, arguments: arguments, workingDirectory: directory ?? FileSystem.currentDirectory(),
            environment: ["PATH": searchPath ?? "/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C"]))
        guard outcome.status == 0 else {
            throw KernelImageError.aptFailed(command: Shell.join([tool] + arguments),
                                             output: String(decoding: outcome.standardError + outcome.standardOutput, as: UTF8.self))
        }
        return String(decoding: outcome.standardOutput, as: UTF8.self)
    }

    // MARK: - Files

    /// Reads a .deb, a bzImage, an ELF vmlinux or raw BTF; the BTF (and the image to boot) go to
    /// `<cache>/kernels/DIGEST/` the first time.
    package func image(file path: String, name: String, origin: String) async throws -> KernelImage {
        let digest = try digest(of: path)
        let entry = FileSystem.join(directory, digest.description)
        let btf = FileSystem.join(entry, "btf"), boot = FileSystem.join(entry, "vmlinuz"), release = FileSystem.join(entry, "release")
        if !FileSystem.exists(btf) {
            // Scratch files in a directory of this process's own: two runs may fill one entry.
            let work = FileSystem.join(entry, ".work.\(getpid())")
            try FileSystem.createDirectory(work)
            defer { _ = FileSystem.removeTree(work) }
            try await extract(path, work: work, btf: btf, boot: boot, release: release)
        }
        return KernelImage(name: name, origin: origin, release: FileSystem.readText(release).map { $0.trimmed() },
                           btf: btf, bootImage: FileSystem.exists(boot) ? boot : nil)
    }

    /// The file's digest, remembered beside the cache under its path, size and modification
    /// time: hashing a 30 MB kernel package on every run would cost seconds.
    private func digest(of path: String) throws -> Digest {
        guard let stat = FileSystem.stat(path) else {
            throw KernelImageError.unreadable(path: path, reason: FileSystem.exists(path) ? "permission denied" : "no such file")
        }
        let memo = FileSystem.join(FileSystem.join(directory, "digests"), ContentHash.of(bytes: Array(path.utf8)).description)
        let key = "\(stat.size) \(stat.mtimeNanoseconds) \(stat.inode)"
        if let text = FileSystem.readText(memo), text.hasPrefix(key + " "),
           let digest = Digest(hex: Array(text.dropFirst(key.count + 1).utf8)) { return digest }
        guard let digest = ContentHash.of(file: path) else { throw KernelImageError.unreadable(path: path, reason: FileSystem.lastError()) }
        try FileSystem.createDirectory(FileSystem.split(memo).directory)
        try FileSystem.writeAtomically(memo, Array("\(key) \(digest)".utf8))
        return digest
    }

    private func extract(_ path: String, work: String, btf: String, boot: String, release: String) async throws {
        guard let bytes = FileSystem.read(path) else { throw KernelImageError.unreadable(path: path, reason: FileSystem.lastError()) }
        if BTFFile.isBTF(bytes) {
            try FileSystem.writeAtomically(btf, bytes)
        } else if ELFSections.isELF(bytes) {
            try FileSystem.writeAtomically(btf, try Self.btfSection(of: bytes, path: path))
        } else if let header = BzImage(bytes) {
            let vmlinux = try await decompress(header, path: path, work: work)
            if let text = header.release { try FileSystem.writeAtomically(release, Array((text + "\n").utf8)) }
            // The BTF last: its presence is what says the entry is complete.
            try FileSystem.writeAtomically(boot, bytes)
            try FileSystem.writeAtomically(btf, try Self.btfSection(of: vmlinux, path: path))
        } else if bytes.starts(with: Array("!<arch>\n".utf8)) {
            let image = try await vmlinuz(inDeb: path, work: work)
            try await extract(image, work: work, btf: btf, boot: boot, release: release)
        } else {
            throw KernelImageError.notAKernel(path: path, reason: "neither a .deb, a bzImage, an ELF file nor raw BTF")
        }
    }

    package static func btfSection(of bytes: [UInt8], path: String) throws -> [UInt8] {
        guard let elf = ELFSections(bytes) else { throw KernelImageError.notAKernel(path: path, reason: "a malformed ELF file") }
        guard let section = elf.section(named: ".BTF") else { throw KernelImageError.noBTF(path: path) }
        return Array(elf.contents(section))
    }

    /// `boot/vmlinuz-*` out of a kernel .deb, next to `next`.
    private func vmlinuz(inDeb deb: String, work scratch: String) async throws -> String {
        let tar = FileSystem.join(scratch, "data.tar")
        _ = try await run("dpkg-deb", ["--fsys-tarfile", deb], package: "dpkg", purpose: "unpack a kernel .deb", output: tar, in: scratch)
        _ = try await run("tar", ["-x", "-f", tar, "--wildcards", "./boot/vmlinuz-*"], package: "tar", purpose: "unpack a kernel .deb", in: scratch)
        let bootDirectory = FileSystem.join(scratch, "boot")
        guard let name = (FileSystem.list(bootDirectory) ?? []).first(where: { $0.hasPrefix("vmlinuz-") }) else {
            throw KernelImageError.notAKernel(path: deb, reason: "the package has no boot/vmlinuz-*")
        }
        let image = FileSystem.join(scratch, "vmlinuz.unpacked")
        try FileSystem.rename(FileSystem.join(bootDirectory, name), to: image)
        return image
    }

    /// The ELF vmlinux inside a bzImage: its payload, decompressed with the tool for its format.
    private func decompress(_ image: BzImage, path: String, work scratch: String) async throws -> [UInt8] {
        guard let format = image.compression else {
            throw KernelImageError.notAKernel(path: path, reason: "its payload is compressed in a format swbpf does not know (magic \(image.payload.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")))")
        }
        let payload = FileSystem.join(scratch, "payload"), vmlinux = FileSystem.join(scratch, "vmlinux")
        try FileSystem.writeAtomically(payload, Array(image.payload))
        _ = try await run(format.tool, format.arguments + [payload], package: format.package,
                          purpose: "decompress the kernel image (\(format.tool) payload)", output: vmlinux, in: scratch)
        guard let bytes = FileSystem.read(vmlinux), ELFSections.isELF(bytes) else {
            throw KernelImageError.notAKernel(path: path, reason: "its decompressed payload is not an ELF vmlinux")
        }
        return bytes
    }

    private func run(_ tool: String, _ arguments: [String], package: String, purpose: String, output: String? = nil,
                     in directory: String) async throws -> ProcessOutcome {
        guard let executable = FileSystem.onPath(tool, searchPath: searchPath) else {
            throw KernelImageError.missingTool(tool: tool, package: package, purpose: purpose)
        }
        if let output { unlink(output) }
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: executable, arguments: arguments,
                                                                         workingDirectory: directory, standardOutputFile: output))
        guard outcome.status == 0 else {
            throw KernelImageError.toolFailed(command: Shell.join([tool] + arguments), output: String(decoding: outcome.standardError, as: UTF8.self))
        }
        return outcome
    }
}

/// A bzImage (vmlinuz): the x86 boot header and the compressed vmlinux it carries.
package struct BzImage {
    package enum Compression {
        case gzip, xz, zstd, lz4, bzip2, lzma

        package var tool: String {
            switch self {
            case .gzip: return "gzip"
            case .xz, .lzma: return "xz"
            case .zstd: return "zstd"
            case .lz4: return "lz4"
            case .bzip2: return "bzip2"
            }
        }

        package var package: String {
            switch self {
            case .xz, .lzma: return "xz-utils"
            default: return tool
            }
        }

        package var arguments: [String] { self == .lzma ? ["--format=lzma", "-dc"] : ["-dc"] }
    }

    package let payload: ArraySlice<UInt8>
    package let compression: Compression?
    /// The kernel's release string (`6.1.0-57-cloud-amd64 (debian-kernel@...) #1 SMP ...`).
    package let release: String?

    package init?(_ bytes: [UInt8]) {
        // "HdrS" at 0x202; payload_offset and payload_length (boot protocol 2.08+) count from the
        // protected-mode code, which follows the setup sectors.
        guard bytes.count > 0x250, bytes[0x202..<0x206].elementsEqual(Array("HdrS".utf8)),
              bytes.littleEndian(UInt16.self, at: 0x206) >= 0x208 else { return nil }
        let setupSectors = Int(bytes[0x1F1] == 0 ? 4 : bytes[0x1F1])
        let start = (setupSectors + 1) * 512 + Int(bytes.littleEndian(UInt32.self, at: 0x248))
        let length = Int(bytes.littleEndian(UInt32.self, at: 0x24C))
        guard length > 8, start + length <= bytes.count else { return nil }
        let magic = Array(bytes[start..<(start + 6)])
        let compression: Compression? = switch magic {
        case _ where magic.starts(with: [0x1F, 0x8B]): .gzip
        case _ where magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]): .xz
        case _ where magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]): .zstd
        case _ where magic.starts(with: [0x02, 0x21, 0x4C, 0x18]): .lz4
        case _ where magic.starts(with: [0x42, 0x5A, 0x68]): .bzip2
        case _ where magic.starts(with: [0x5D, 0x00, 0x00]): .lzma
        default: nil
        }
        // Every format but gzip (whose trailer holds it) has the decompressed size appended, which
        // the tools take for trailing garbage.
        self.payload = bytes[start..<(start + length - (compression == .gzip ? 0 : 4))]
        self.compression = compression
        let versionPointer = Int(bytes.littleEndian(UInt16.self, at: 0x20E))
        let text = versionPointer > 0 ? bytes.cString(at: versionPointer + 0x200, limit: versionPointer + 0x400) : ""
        self.release = text.isEmpty ? nil : text
    }
}

/// Raw BTF, as /sys/kernel/btf/vmlinux holds it.
package enum BTFFile {
    package static func isBTF(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x9F, 0xEB, 0x01]) }
}
