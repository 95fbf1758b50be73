import Testing
@testable import SwbpfKernel

/// The table of kernel history and the reader of what an object uses, on objects and BTF written
/// byte by byte here (the templates' real objects are read in KernelRequirementsIntegrationTests).
@Suite struct KernelRequirementsTests {
    @Test func versionsParseFromVersionsAndReleasesAndOrderNumerically() {
        #expect(KernelVersion(parsing: "5.4") == KernelVersion(5, 4))
        #expect(KernelVersion(parsing: "6.1.192-3") == KernelVersion(6, 1))
        #expect(KernelVersion(parsing: "6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP") == KernelVersion(6, 1))
        #expect(KernelVersion(parsing: "linux-image-6.1") == nil)
        #expect(KernelVersion(parsing: "6") == nil)
        #expect(KernelVersion(4, 20) < KernelVersion(5, 2))
        #expect(KernelVersion(5, 9) < KernelVersion(5, 10))
        #expect(KernelVersion(5, 10).description == "5.10")
    }

    @Test func sectionsMapToProgramTypesAsLibbpfMatchesThem() {
        #expect(KernelHistory.program(section: "tp/syscalls/sys_enter_write")?.since == KernelVersion(4, 7))
        #expect(KernelHistory.program(section: "fentry/do_unlinkat")?.since == KernelVersion(5, 5))
        #expect(KernelHistory.program(section: "tp_btf/sched_switch")?.since == KernelVersion(5, 5))
        #expect(KernelHistory.program(section: "iter/task")?.since == KernelVersion(5, 8))
        #expect(KernelHistory.program(section: "xdp")?.since == KernelVersion(4, 8))
        #expect(KernelHistory.program(section: "kprobe.multi/vfs_*")?.since == KernelVersion(5, 18))
        #expect(KernelHistory.program(section: "kprobe/do_unlinkat")?.since == KernelVersion(4, 1))
        #expect(KernelHistory.program(section: "uprobe")?.since == KernelVersion(4, 3))
        // A `+` pattern takes the name alone or followed by '/', nothing else; others are exact.
        #expect(KernelHistory.program(section: "kprobex") == nil)
        #expect(KernelHistory.program(section: "xdp/extra") == nil)
        #expect(KernelHistory.program(section: "no-such-section") == nil)
    }

    @Test func helperAndMapNumbersFollowTheUAPIEnums() {
        // enum bpf_func_id and enum bpf_map_type, include/uapi/linux/bpf.h.
        #expect(KernelHistory.helperNames.count == 210)
        #expect(KernelHistory.helperNames[1] == "bpf_map_lookup_elem")
        #expect(KernelHistory.helperNames[6] == "bpf_trace_printk")
        #expect(KernelHistory.helperNames[113] == "bpf_probe_read_kernel")
        #expect(KernelHistory.helperNames[131] == "bpf_ringbuf_reserve")
        #expect(KernelHistory.helperNames[181] == "bpf_loop")
        #expect(KernelHistory.helperNames[209] == "bpf_user_ringbuf_drain")
        #expect(KernelHistory.mapTypes[27].name == "BPF_MAP_TYPE_RINGBUF")
        #expect(KernelHistory.mapTypes[4].name == "BPF_MAP_TYPE_PERF_EVENT_ARRAY")
        // Every dated helper is a helper the enum names.
        #expect(Set(KernelHistory.helpers.keys).isSubset(of: Set(KernelHistory.helperNames)))
    }

    @Test func theTableDatesWhatTheTemplatesUse() {
        let expected: [String: String] = [
            "bpf_ringbuf_reserve": "5.8", "bpf_ringbuf_submit": "5.8", "bpf_seq_printf": "5.8", "bpf_loop": "5.17",
            "bpf_get_current_pid_tgid": "4.2", "bpf_trace_printk": "4.1", "bpf_ktime_get_ns": "4.1",
            "bpf_probe_read_kernel": "5.5", "bpf_get_current_task_btf": "5.11", "bpf_perf_event_output": "4.4",
            "bpf_get_stack": "4.18", "bpf_skb_pull_data": "4.9", "bpf_get_current_comm": "4.2",
        ]
        for (helper, since) in expected { #expect(KernelHistory.helpers[helper] == since, "\(helper)") }
        #expect(KernelHistory.mapTypes[1].since == "3.19")
        #expect(KernelHistory.mapTypes[27].since == "5.8")
        #expect(KernelHistory.kfuncs["bpf_iter_num_new"] == "6.4")
        for entry in KernelHistory.sections + KernelHistory.mapTypes.dropFirst().map({ ("", $0.name, $0.since) }) {
            #expect(KernelVersion(parsing: entry.2) != nil, "\(entry)")
        }
    }

    @Test func theMinimumIsTheNewestDatedNeedWithEverythingAtIt() throws {
        let needs = [KernelNeed(what: "XDP", since: KernelVersion(4, 8)), KernelNeed(what: "BPF_MAP_TYPE_RINGBUF", since: KernelVersion(5, 8)),
                     KernelNeed(what: "bpf_ringbuf_reserve", since: KernelVersion(5, 8)), KernelNeed(what: "kfunc bpf_mystery", since: nil),
                     KernelNeed(what: "bpf_ringbuf_reserve", since: KernelVersion(5, 8))]
        let minimum = try #require(ObjectRequirements.minimum(of: needs))
        #expect(minimum.version == KernelVersion(5, 8))
        #expect(minimum.because == ["BPF_MAP_TYPE_RINGBUF", "bpf_ringbuf_reserve"])
        #expect(ObjectRequirements(programs: [.init(name: "p", section: "xdp", needs: needs)]).undated == ["kfunc bpf_mystery"])
        #expect(ObjectRequirements.minimum(of: [KernelNeed(what: "x", since: nil)]) == nil)
    }

    @Test func mapTypesAreReadFromTheMapsBTF() throws {
        let btf = try #require(BTFTypes(TestBTF.ringbufMap()))
        #expect(btf.mapTypes().map(\.name) == ["events"])
        #expect(btf.mapTypes().first?.type == 27)
        #expect(BTFTypes(Array(repeating: 0, count: 24)) == nil)
    }

    /// An object with one XDP program that looks up a ring buffer map, calls two helpers and one
    /// kfunc, and reads a global.
    @Test func anObjectsProgramsAreReadFromItsBytes() throws {
        let requirements = try #require(ObjectRequirements(bytes: TestObject.xdp()))
        #expect(requirements.programs.map(\.name) == ["count_packets"])
        #expect(requirements.programs.first?.section == "xdp")
        let needs = Set(try #require(requirements.programs.first).needs.map(\.what))
        #expect(needs == ["XDP (BPF_PROG_TYPE_XDP)", "BPF_MAP_TYPE_RINGBUF", "bpf_map_lookup_elem", "bpf_ktime_get_ns",
                          "kfunc bpf_iter_num_new", "kfunc calls", "global data (.rodata)"], "\(needs)")
        let minimum = try #require(requirements.minimum)
        #expect(minimum.version == KernelVersion(6, 4))
        #expect(minimum.because == ["kfunc bpf_iter_num_new"])
        #expect(ObjectRequirements(bytes: Array("not an object".utf8)) == nil)
    }
}

/// BTF blobs built type by type.
enum TestBTF {
    /// `struct { int (*type)[27]; } events SEC(".maps");`: int, array, pointer, struct, var, datasec.
    static func ringbufMap() -> [UInt8] {
        var strings: [UInt8] = [0]
        func name(_ text: String) -> UInt32 {
            let offset = UInt32(strings.count)
            strings += Array(text.utf8) + [0]
            return offset
        }
        var types: [UInt8] = []
        func type(_ nameOffset: UInt32, kind: UInt32, vlen: UInt32 = 0, _ sizeOrType: UInt32, _ extra: [UInt32]) {
            for word in [nameOffset, kind << 24 | vlen, sizeOrType] + extra { types += word.bytes }
        }
        type(name("int"), kind: 1, 4, [0x0100_0020])                         // 1: int
        type(0, kind: 3, 0, [1, 1, 27])                                       // 2: int[27]
        type(0, kind: 2, 2, [])                                               // 3: int (*)[27]
        type(0, kind: 4, vlen: 1, 8, [name("type"), 3, 0])                   // 4: struct { type }
        type(name("events"), kind: 14, 4, [1])                                // 5: var events
        type(name(".maps"), kind: 15, vlen: 1, 8, [5, 0, 8])                 // 6: datasec .maps
        let header: [UInt32] = [24, 0, UInt32(types.count), UInt32(types.count), UInt32(strings.count)]
        return [0x9F, 0xEB, 1, 0] + header.flatMap(\.bytes) + types + strings
    }
}

/// A relocatable BPF ELF object laid out section by section.
enum TestObject {
    struct Section {
        var name: String
        var type: UInt32
        var flags: UInt64 = 0
        var bytes: [UInt8]
        var link: UInt32 = 0
        var info: UInt32 = 0
        var entrySize: UInt64 = 0
    }

    static func instruction(_ code: UInt8, source: UInt8 = 0, immediate: Int32 = 0) -> [UInt8] {
        [code, source << 4, 0, 0] + UInt32(bitPattern: immediate).bytes
    }

    static func xdp() -> [UInt8] {
        // Symbols: null, the program, the map, the kfunc extern, .rodata's section symbol.
        let symbolNames: [UInt8] = [0] + Array("count_packets\0events\0bpf_iter_num_new\0".utf8)
        func symbol(_ name: UInt32, info: UInt8, section: UInt16, value: UInt64 = 0, size: UInt64 = 0) -> [UInt8] {
            name.bytes + [info, 0] + section.bytes + value.bytes + size.bytes
        }
        let code = instruction(0x18) + instruction(0) + instruction(0x85, immediate: 1)    // r1 = map; call map_lookup_elem
            + instruction(0x85, immediate: 5)                                             // call ktime_get_ns
            + instruction(0x85, source: 1, immediate: -1)                                 // call bpf_iter_num_new (extern)
            + instruction(0x18) + instruction(0)                                          // r1 = .rodata
            + instruction(0x95)                                                           // exit
        let symbols = symbol(0, info: 0, section: 0)
            + symbol(1, info: 0x12, section: 1, size: UInt64(code.count))                  // global func in section 1 (xdp)
            + symbol(15, info: 0x11, section: 3)                                          // global object in .maps
            + symbol(22, info: 0x10, section: 0)                                          // undefined extern
            + symbol(0, info: 0x03, section: 4)                                           // section symbol of .rodata
        func relocation(_ offset: UInt64, symbol: UInt64) -> [UInt8] { offset.bytes + (symbol << 32 | 1).bytes }
        let relocations = relocation(0, symbol: 2) + relocation(32, symbol: 3) + relocation(40, symbol: 4)
        let sections = [
            Section(name: "xdp", type: 1, flags: 0x6, bytes: code),
            Section(name: ".relxdp", type: 9, bytes: relocations, link: 6, info: 1, entrySize: 16),
            Section(name: ".maps", type: 1, flags: 0x3, bytes: Array(repeating: 0, count: 8)),
            Section(name: ".rodata", type: 1, flags: 0x2, bytes: Array("hi\0".utf8)),
            Section(name: ".BTF", type: 1, bytes: TestBTF.ringbufMap()),
            Section(name: ".symtab", type: 2, bytes: symbols, link: 7, info: 1, entrySize: 24),
            Section(name: ".strtab", type: 3, bytes: symbolNames),
        ]
        return elf(sections)
    }

    /// The ELF header, the sections' bytes, the section names, then the section table.
    static func elf(_ sections: [Section]) -> [UInt8] {
        var names: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for section in sections {
            nameOffsets.append(UInt32(names.count))
            names += Array(section.name.utf8) + [0]
        }
        let namesOffset = UInt32(names.count)
        names += Array(".shstrtab\0".utf8)
        var body: [UInt8] = []
        var offsets: [UInt64] = []
        for section in sections + [Section(name: ".shstrtab", type: 3, bytes: names)] {
            while body.count % 8 != 0 { body.append(0) }
            offsets.append(UInt64(64 + body.count))
            body += section.bytes
        }
        while body.count % 8 != 0 { body.append(0) }
        let tableOffset = UInt64(64 + body.count)
        var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + Array(repeating: 0, count: 8)
        header += UInt16(1).bytes + UInt16(247).bytes + UInt32(1).bytes + UInt64(0).bytes + UInt64(0).bytes + tableOffset.bytes
        header += UInt32(0).bytes + UInt16(64).bytes + UInt16(0).bytes + UInt16(0).bytes + UInt16(64).bytes
        header += UInt16(sections.count + 2).bytes + UInt16(sections.count + 1).bytes
        var table = Array(repeating: UInt8(0), count: 64)
        for (index, section) in (sections + [Section(name: ".shstrtab", type: 3, bytes: names)]).enumerated() {
            let name = index < sections.count ? nameOffsets[index] : namesOffset
            table += name.bytes + section.type.bytes + section.flags.bytes + UInt64(0).bytes + offsets[index].bytes
            table += UInt64(section.bytes.count).bytes + section.link.bytes + section.info.bytes + UInt64(8).bytes + section.entrySize.bytes
        }
        return header + body + table
    }
}

extension FixedWidthInteger {
    /// Little-endian bytes.
    var bytes: [UInt8] { (0..<(bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) } }
}
