/// Byte order of a target machine: it picks clang's `-target bpfel` or `bpfeb`.
public enum ByteOrder: String, Hashable, Sendable, Codable {
    case little, big
}

/// The identity an ELF file announces in its header: `e_machine`, the class (32 or 64 bits) and
/// the byte order. A binary built for the target must carry the target's.
public struct ELFIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var machine: UInt16
    public var bits: Int
    public var byteOrder: ByteOrder

    public init(machine: UInt16, bits: Int, byteOrder: ByteOrder) {
        self.machine = machine
        self.bits = bits
        self.byteOrder = byteOrder
    }

    /// `aarch64 (ELF64, little-endian)`: as `readelf -h` names the machine, with the class and order.
    public var description: String {
        "\(Self.machineName(machine)) (ELF\(bits), \(byteOrder == .little ? "little" : "big")-endian)"
    }

    /// Reads the identity from the first bytes of an ELF file (its `e_ident` and `e_machine`);
    /// nil when they are not an ELF header.
    public init?(header bytes: [UInt8]) {
        guard bytes.count >= 20, bytes[0] == 0x7F, bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "L"),
              bytes[3] == UInt8(ascii: "F") else { return nil }
        let bits: Int
        switch bytes[4] {
        case 1: bits = 32
        case 2: bits = 64
        default: return nil
        }
        let order: ByteOrder
        switch bytes[5] {
        case 1: order = .little
        case 2: order = .big
        default: return nil
        }
        let machine = order == .little ? UInt16(bytes[18]) | UInt16(bytes[19]) << 8 : UInt16(bytes[18]) << 8 | UInt16(bytes[19])
        self.init(machine: machine, bits: bits, byteOrder: order)
    }

    package static func machineName(_ machine: UInt16) -> String {
        TargetArch.all.first { $0.elf.machine == machine }?.machine ?? (machine == 3 ? "i386" : "machine \(machine)")
    }
}

/// A machine swbpf can build for: every name that follows from ARCH. The table covers the
/// architectures libbpf-bootstrap's Makefile maps `uname -m` onto (its ARCH sed) and vendors a
/// vmlinux.h for; each is reached by its kernel name (`arm64`, what `__TARGET_ARCH_` takes) or its
/// Debian/`uname -m` name (`aarch64`).
public struct TargetArch: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The kernel's name: `__TARGET_ARCH_<name>`, the output subdirectory, `{arch}` in swbpf.toml.
    public var name: String
    /// `uname -m` on such a machine, and the name libbpf/vmlinux.h's directories use.
    public var machine: String
    /// The Debian multiarch triple: /usr/include/<triple>, /usr/lib/<triple>, <triple>-gcc.
    public var triple: String
    /// The Debian architecture: `libbpf-dev:<debian>`.
    public var debian: String
    public var elf: ELFIdentity
    /// Other spellings accepted for it.
    public var aliases: [String]
    /// The directories of libbpf-bootstrap's vmlinux.h/include/ that hold its header, in order.
    public var vendoredDirectories: [String]

    public var description: String { name }
    public var byteOrder: ByteOrder { elf.byteOrder }

    /// Every spelling that names this target.
    public var spellings: [String] { [name, machine] + aliases }

    /// The cross compiler's Debian package (`gcc-aarch64-linux-gnu`).
    public var crossCompilerPackage: String { "gcc-" + triple.replacing("_", with: "-") }

    /// The Debian packages with the target's libbpf, libelf and zlib.
    public var libraryPackages: [String] { ["libbpf-dev", "libelf-dev", "zlib1g-dev"].map { "\($0):\(debian)" } }

    /// The shell line that installs a cross toolchain for it on Debian.
    public var installCommand: String {
        "dpkg --add-architecture \(debian) && apt-get update && apt-get install \(crossCompilerPackage) \(libraryPackages.joined(separator: " "))"
    }

    package static func entry(_ name: String, machine: String, triple: String, debian: String, elfMachine: UInt16, bits: Int = 64,
                      byteOrder: ByteOrder = .little, aliases: [String] = [], vendored: [String]) -> TargetArch {
        TargetArch(name: name, machine: machine, triple: triple, debian: debian,
                   elf: ELFIdentity(machine: elfMachine, bits: bits, byteOrder: byteOrder), aliases: aliases, vendoredDirectories: vendored)
    }

    /// ELF machine numbers from the ELF ABI (EM_X86_64 = 62, EM_AARCH64 = 183, ...).
    public static let all: [TargetArch] = [
        entry("x86", machine: "x86_64", triple: "x86_64-linux-gnu", debian: "amd64", elfMachine: 62, aliases: ["amd64"],
              vendored: ["x86", "x86_64"]),
        entry("arm64", machine: "aarch64", triple: "aarch64-linux-gnu", debian: "arm64", elfMachine: 183, vendored: ["aarch64", "arm64"]),
        entry("arm", machine: "armv7l", triple: "arm-linux-gnueabihf", debian: "armhf", elfMachine: 40, bits: 32, aliases: ["armhf"],
              vendored: ["arm"]),
        entry("riscv", machine: "riscv64", triple: "riscv64-linux-gnu", debian: "riscv64", elfMachine: 243, vendored: ["riscv64", "riscv"]),
        entry("s390", machine: "s390x", triple: "s390x-linux-gnu", debian: "s390x", elfMachine: 22, byteOrder: .big, vendored: ["s390x", "s390"]),
        entry("powerpc", machine: "ppc64le", triple: "powerpc64le-linux-gnu", debian: "ppc64el", elfMachine: 21, aliases: ["ppc64el"],
              vendored: ["powerpc"]),
        entry("loongarch", machine: "loongarch64", triple: "loongarch64-linux-gnu", debian: "loong64", elfMachine: 258,
              aliases: ["loong64"], vendored: ["loongarch64", "loongarch"]),
    ]

    /// The target a spelling names, or nil.
    public static func named(_ spelling: String) -> TargetArch? {
        all.first { $0.spellings.contains(spelling) }
    }

    /// Every accepted spelling, for the error that refuses another.
    public static var accepted: String {
        all.map { $0.spellings.joined(separator: "/") }.joined(separator: ", ")
    }

    /// The machine swbpf runs on, from `uname -m` as libbpf-bootstrap's Makefile maps it; nil for
    /// a machine outside the table (mips, i686), whose builds keep the host's tools and name.
    public static let host: TargetArch? = {
        let machine = Arch.hostMachine()
        return named(machine) ?? named(Arch.bpfArch(forMachine: machine))
    }()

    package init(name: String, machine: String, triple: String, debian: String, elf: ELFIdentity, aliases: [String], vendoredDirectories: [String]) {
        self.name = name
        self.machine = machine
        self.triple = triple
        self.debian = debian
        self.elf = elf
        self.aliases = aliases
        self.vendoredDirectories = vendoredDirectories
    }
}

/// Where the target was chosen, for errors and for `swbpf explain`.
public enum TargetOrigin: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Nothing chose it: the machine swbpf runs on.
    case host
    /// `ARCH=...`, from the environment or a knob word.
    case knob
    /// `--arch`.
    case option
    /// `arch = "..."` in swbpf.toml, at this line.
    case config(line: Int)

    public var description: String {
        switch self {
        case .host: return "uname -m"
        case .knob: return "ARCH"
        case .option: return "--arch"
        case .config(let line): return "swbpf.toml arch (line \(line))"
        }
    }
}

/// What a build was asked to build for: the target machine and the linkage, with where each came
/// from. Known before any tool runs (it decides the output directory, where the state lives).
public struct TargetSelection: Hashable, Sendable, Codable {
    /// The `__TARGET_ARCH_` name; for a host outside the table, the Makefile's mapping of uname -m.
    public var name: String
    /// Nil only for a host outside the table.
    public var arch: TargetArch?
    public var origin: TargetOrigin
    /// Build fully static binaries (`--static`, `static = true`).
    public var staticLink = false
    public var staticOrigin: String?

    /// The machine swbpf runs on: every path and flag as before targets existed.
    public var isHost: Bool { arch == TargetArch.host }

    public static var host: TargetSelection {
        TargetSelection(name: TargetArch.host?.name ?? Arch.bpfArch(forMachine: Arch.hostMachine()), arch: TargetArch.host, origin: .host)
    }

    /// The selection from `--arch`, the `ARCH` knob and swbpf.toml, in that order, and `--static`
    /// or `static = true`. A spelling outside the table is an error naming where it came from.
    public static func resolve(option: String?, environment: [String: String], config: ProjectConfig,
                               staticOption: Bool) throws -> TargetSelection {
        var selection = TargetSelection.host
        var chosen: (String, TargetOrigin)?
        if let option, !option.isEmpty { chosen = (option, .option) }
        else if let knob = environment["ARCH"], !knob.isEmpty { chosen = (knob, .knob) }
        else if let configured = config.arch { chosen = (configured, .config(line: config.archLine)) }
        if let (spelling, origin) = chosen {
            guard let arch = TargetArch.named(spelling) else {
                throw ConfigError.unknownArch(value: spelling, origin: origin.description, accepted: TargetArch.accepted)
            }
            selection = TargetSelection(name: arch.name, arch: arch, origin: origin)
        }
        if staticOption {
            selection.staticLink = true
            selection.staticOrigin = "--static"
        } else if config.staticLink {
            selection.staticLink = true
            selection.staticOrigin = "swbpf.toml static"
        }
        return selection
    }

    /// Where a non-host target's products go, inside the output and binary directories: its own
    /// subdirectory, so that switching ARCH back and forth rebuilds nothing.
    public var subdirectory: String? { isHost ? nil : name }

    package init(name: String, arch: TargetArch? = nil, origin: TargetOrigin, staticLink: Bool = false, staticOrigin: String? = nil) {
        self.name = name
        self.arch = arch
        self.origin = origin
        self.staticLink = staticLink
        self.staticOrigin = staticOrigin
    }
}
