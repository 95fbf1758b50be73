/// The sections of a 64-bit little-endian ELF file (a kernel's vmlinux, a BPF object), read from
/// its bytes: enough to take out `.BTF` and to walk a BPF object's program sections.
package struct ELFSections {
    package struct Section {
        package var name: String
        package var type: UInt32
        package var flags: UInt64
        package var offset: Int
        package var size: Int
        package var link: Int
        /// sh_info: for a relocation section, the index of the section it applies to.
        package var info: Int
        package var entrySize: Int

        /// SHF_EXECINSTR: code (a BPF program section).
        package var isCode: Bool { flags & 0x4 != 0 }
    }

    package let bytes: [UInt8]
    package let sections: [Section]

    package static func isELF(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) }

    /// nil when `bytes` is not an ELF64 little-endian file or its section table runs past its end.
    package init?(_ bytes: [UInt8]) {
        guard Self.isELF(bytes), bytes.count >= 64, bytes[4] == 2, bytes[5] == 1 else { return nil }
        let tableOffset = Int(bytes.littleEndian(UInt64.self, at: 0x28))
        let entrySize = Int(bytes.littleEndian(UInt16.self, at: 0x3A))
        let count = Int(bytes.littleEndian(UInt16.self, at: 0x3C))
        let namesIndex = Int(bytes.littleEndian(UInt16.self, at: 0x3E))
        guard entrySize >= 64, tableOffset > 0, tableOffset + count * entrySize <= bytes.count, namesIndex < count else { return nil }
        var raw: [(name: Int, section: Section)] = []
        for index in 0..<count {
            let at = tableOffset + index * entrySize
            let section = Section(name: "", type: bytes.littleEndian(UInt32.self, at: at + 4),
                                  flags: bytes.littleEndian(UInt64.self, at: at + 8),
                                  offset: Int(bytes.littleEndian(UInt64.self, at: at + 24)),
                                  size: Int(bytes.littleEndian(UInt64.self, at: at + 32)),
                                  link: Int(bytes.littleEndian(UInt32.self, at: at + 40)),
                                  info: Int(bytes.littleEndian(UInt32.self, at: at + 44)),
                                  entrySize: Int(bytes.littleEndian(UInt64.self, at: at + 56)))
            // SHT_NOBITS (.bss) has a size but no bytes in the file.
            guard section.type == 8 || section.offset + section.size <= bytes.count else { return nil }
            raw.append((Int(bytes.littleEndian(UInt32.self, at: at)), section))
        }
        let names = raw[namesIndex].section
        self.bytes = bytes
        self.sections = raw.map { entry in
            var section = entry.section
            section.name = bytes.cString(at: names.offset + entry.name, limit: names.offset + names.size)
            return section
        }
    }

    package func section(named name: String) -> Section? { sections.first { $0.name == name } }

    package func contents(_ section: Section) -> ArraySlice<UInt8> {
        section.type == 8 ? [] : bytes[section.offset..<(section.offset + section.size)]
    }
}

extension Array where Element == UInt8 {
    /// The little-endian integer at `offset`, or 0 past the end.
    package func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        let width = T.bitWidth / 8
        guard offset >= 0, offset + width <= count else { return 0 }
        var value: T = 0
        for index in (0..<width).reversed() { value = value << 8 | T(self[offset + index]) }
        return value
    }

    /// The NUL-terminated string at `offset`, stopping at `limit`.
    package func cString(at offset: Int, limit: Int) -> String {
        guard offset >= 0, offset < Swift.min(limit, count) else { return "" }
        let end = self[offset..<Swift.min(limit, count)].firstIndex(of: 0) ?? Swift.min(limit, count)
        return String(decoding: self[offset..<end], as: UTF8.self)
    }
}
