import SwbpfBasics

/// One thing a program uses that not every kernel has, and the first release that has it (nil:
/// not in swbpf's table).
public struct KernelNeed: Sendable, Codable, Equatable, Hashable {
    /// `BPF_MAP_TYPE_RINGBUF`, `bpf_ringbuf_reserve`, `kfunc bpf_iter_num_new`, `iterator (...)`.
    public var what: String
    public var since: KernelVersion?
}

/// What each program of a BPF object uses, read from the object's bytes: its program type (the
/// ELF section name, as libbpf maps it), the maps it refers to (their `type` in the `.maps` BTF),
/// the helpers it calls (call instructions with src_reg 0: imm is the helper's number), the kfuncs
/// (calls relocated against an undefined symbol, libbpf's `__ksym` externs), global data and
/// calls between BPF functions. Functions in `.text` count for every program that calls into it.
public struct ObjectRequirements: Sendable, Codable, Equatable {
    public struct Program: Sendable, Codable, Equatable {
        public var name: String
        public var section: String
        public var needs: [KernelNeed]
    }

    public var programs: [Program]

    /// The newest release any program needs, with what needs it; nil when nothing is dated.
    public var minimum: (version: KernelVersion, because: [String])? {
        Self.minimum(of: programs.flatMap(\.needs))
    }

    /// What the table does not date (unknown helpers, kfuncs, sections).
    public var undated: [String] {
        var seen = Set<String>()
        return programs.flatMap(\.needs).filter { $0.since == nil && seen.insert($0.what).inserted }.map(\.what)
    }

    package static func minimum(of needs: [KernelNeed]) -> (version: KernelVersion, because: [String])? {
        guard let newest = needs.compactMap(\.since).max() else { return nil }
        var seen = Set<String>()
        return (newest, needs.filter { $0.since == newest && seen.insert($0.what).inserted }.map(\.what))
    }

    public init(programs: [Program]) {
        self.programs = programs
    }

    /// Reads an object file; nil when it is not a BPF ELF object.
    public init?(file path: String) {
        guard let bytes = FileSystem.read(path) else { return nil }
        self.init(bytes: bytes)
    }

    package init?(bytes: [UInt8]) {
        guard let elf = ELFSections(bytes), bytes.littleEndian(UInt16.self, at: 0x12) == 247 /* EM_BPF */ else { return nil }
        let symbols = Self.symbols(elf)
        let maps = Self.mapTypes(elf)
        let guarded = Self.guardedHelpers(elf, symbols: symbols)
        let text = elf.sections.firstIndex { $0.name == ".text" }
        var textNeeds: [KernelNeed] = []
        if let text {
            textNeeds = Self.scan(elf, section: text, range: nil, symbols: symbols, maps: maps, guarded: guarded).needs
        }
        var programs: [Program] = []
        for (index, section) in elf.sections.enumerated() where section.isCode && section.name != ".text" && section.size > 0 {
            let typeNeed = KernelHistory.program(section: section.name).map { KernelNeed(what: $0.program, since: $0.since) }
                ?? KernelNeed(what: "program section \(section.name)", since: nil)
            // Each global function of the section is a program; one program when there is none.
            let functions = symbols.filter { $0.section == index && $0.isFunction && $0.isGlobal }
            let ranges: [(String, Range<Int>?)] = functions.isEmpty ? [(section.name, nil)]
                : functions.map { ($0.name, ($0.value / 8)..<(($0.value + $0.size) / 8)) }
            for (name, range) in ranges {
                let scanned = Self.scan(elf, section: index, range: range, symbols: symbols, maps: maps, guarded: guarded)
                var needs = [typeNeed] + scanned.needs
                if scanned.callsText { needs += textNeeds }
                var seen = Set<KernelNeed>()
                programs.append(Program(name: name, section: section.name, needs: needs.filter { seen.insert($0).inserted }))
            }
        }
        self.programs = programs
    }

    struct Symbol {
        var name: String
        var section: Int
        var value: Int
        var size: Int
        var isFunction: Bool
        var isGlobal: Bool
    }

    static func symbols(_ elf: ELFSections) -> [Symbol] {
        guard let table = elf.sections.first(where: { $0.type == 2 }), table.link < elf.sections.count else { return [] }
        let names = elf.sections[table.link]
        return stride(from: table.offset, to: table.offset + table.size - 23, by: 24).map { at in
            let info = elf.bytes[at + 4]
            return Symbol(name: elf.bytes.cString(at: names.offset + Int(elf.bytes.littleEndian(UInt32.self, at: at)), limit: names.offset + names.size),
                          section: Int(elf.bytes.littleEndian(UInt16.self, at: at + 6)),
                          value: Int(elf.bytes.littleEndian(UInt64.self, at: at + 8)), size: Int(elf.bytes.littleEndian(UInt64.self, at: at + 16)),
                          isFunction: info & 0xF == 2, isGlobal: info >> 4 != 0)
        }
    }

    /// Each map of `.maps` by name, with its type as the table names and dates it.
    static func mapTypes(_ elf: ELFSections) -> [String: KernelNeed] {
        guard let section = elf.section(named: ".BTF"), let btf = BTFTypes(Array(elf.contents(section))) else { return [:] }
        var maps: [String: KernelNeed] = [:]
        for map in btf.mapTypes() {
            guard let type = map.type else { continue }
            maps[map.name] = Int(type) < KernelHistory.mapTypes.count && type > 0
                ? KernelNeed(what: KernelHistory.mapTypes[Int(type)].name, since: KernelVersion(parsing: KernelHistory.mapTypes[Int(type)].since))
                : KernelNeed(what: "map type \(type)", since: nil)
        }
        return maps
    }

    /// libbpf's `__kconfig` externs that say whether the kernel has a helper: libbpf sets them from
    /// its own probe (usdt.bpf.h calls bpf_get_attach_cookie only when LINUX_HAS_BPF_COOKIE).
    static let helperProbes = ["LINUX_HAS_BPF_COOKIE": "bpf_get_attach_cookie"]

    /// The helpers the object asks the kernel about before calling (`bpf_core_enum_value_exists(enum
    /// bpf_func_id, BPF_FUNC_x)`, or one of libbpf's externs above): a kernel without them runs the
    /// other branch, so they set no minimum.
    static func guardedHelpers(_ elf: ELFSections, symbols: [Symbol]) -> Set<String> {
        var helpers = Set(symbols.filter { $0.section == 0 }.compactMap { helperProbes[$0.name] })
        if let section = elf.section(named: ".BTF"), let btf = BTFTypes(Array(elf.contents(section))), let ext = elf.section(named: ".BTF.ext") {
            helpers.formUnion(btf.checkedEnumerators(extended: Array(elf.contents(ext))).filter { $0.hasPrefix("BPF_FUNC_") }
                .map { "bpf_" + $0.dropFirst("BPF_FUNC_".count) })
        }
        return helpers
    }

    /// The relocations of section `index` (its SHT_REL sections), by the byte offset of the
    /// instruction each patches, with the symbol it names.
    static func relocations(of index: Int, _ elf: ELFSections, symbols: [Symbol]) -> [Int: Symbol] {
        var relocated: [Int: Symbol] = [:]
        for relocations in elf.sections where relocations.type == 9 /* SHT_REL */ && relocations.info == index {
            for at in stride(from: relocations.offset, to: relocations.offset + relocations.size - 15, by: 16) {
                let symbol = Int(elf.bytes.littleEndian(UInt64.self, at: at + 8) >> 32)
                if symbol < symbols.count { relocated[Int(elf.bytes.littleEndian(UInt64.self, at: at))] = symbols[symbol] }
            }
        }
        return relocated
    }

    /// The needs of the instructions of `section` (all of it, or the instructions in `range`).
    static func scan(_ elf: ELFSections, section index: Int, range: Range<Int>?, symbols: [Symbol],
                     maps: [String: KernelNeed], guarded: Set<String>) -> (needs: [KernelNeed], callsText: Bool) {
        let section = elf.sections[index]
        let relocated = relocations(of: index, elf, symbols: symbols)
        let sectionNames = elf.sections.map(\.name)
        var needs: [KernelNeed] = []
        var callsText = false
        let count = section.size / 8
        for instruction in range.map({ $0.clamped(to: 0..<count) }) ?? 0..<count {
            let at = section.offset + instruction * 8
            let code = elf.bytes[at], sourceRegister = elf.bytes[at + 1] >> 4
            let symbol = relocated[instruction * 8]
            if code == 0x85 {
                if let symbol, symbol.section == 0 {
                    let since = KernelHistory.kfuncs[symbol.name].flatMap(KernelVersion.init(parsing:))
                    needs.append(KernelNeed(what: "kfunc \(symbol.name)", since: since))
                    needs.append(KernelNeed(what: "kfunc calls", since: KernelVersion(parsing: KernelHistory.kfuncCalls)))
                } else if sourceRegister == 0 {
                    let id = Int(Int32(bitPattern: elf.bytes.littleEndian(UInt32.self, at: at + 4)))
                    let name = id > 0 && id < KernelHistory.helperNames.count ? KernelHistory.helperNames[id] : "helper #\(id)"
                    if !guarded.contains(name) {
                        needs.append(KernelNeed(what: name, since: KernelHistory.helpers[name].flatMap(KernelVersion.init(parsing:))))
                    }
                } else if sourceRegister == 1 {
                    needs.append(KernelNeed(what: "calls between BPF functions", since: KernelVersion(parsing: KernelHistory.functionCalls)))
                    if let symbol, symbol.section < sectionNames.count, sectionNames[symbol.section] == ".text" { callsText = true }
                }
            } else if code == 0x18, let symbol, symbol.section > 0, symbol.section < sectionNames.count {
                let target = sectionNames[symbol.section]
                if target == ".maps", let map = maps[symbol.name] {
                    needs.append(map)
                } else if [".rodata", ".data", ".bss"].contains(where: { target == $0 || target.hasPrefix($0 + ".") }) {
                    needs.append(KernelNeed(what: "global data (\(target))", since: KernelVersion(parsing: KernelHistory.globalData)))
                }
            }
        }
        return (needs, callsText)
    }
}
