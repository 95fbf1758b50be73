import SwbpfBasics

/// Where in its source a BPF object does something, read from the object's `.BTF.ext` line info
/// (clang's `-g`): libbpf refuses a kfunc the kernel lacks before the verifier runs, so no
/// verifier log quotes the line of the call.
package enum ObjectSourceLines {
    /// The source line of the first call to kfunc `name` in program section `section` (then in
    /// `.text`, where the program's subprograms are); nil when the object has no such call or no
    /// line info.
    package static func kfuncCall(_ name: String, section: String, in bytes: [UInt8]) -> VerifierLog.SourceLine? {
        guard let (elf, btf, ext) = lineInfo(of: bytes) else { return nil }
        let symbols = ObjectRequirements.symbols(elf)
        for candidate in [section, ".text"] {
            guard let index = elf.sections.firstIndex(where: { $0.name == candidate && $0.isCode }),
                  let call = firstCall(to: name, section: index, elf: elf, symbols: symbols) else { continue }
            return line(before: call, section: candidate, lineInfo: ext, btf: btf)
        }
        return nil
    }

    /// The object's ELF sections, its BTF (which holds the line info's strings) and its `.BTF.ext`;
    /// nil for an object built without `-g`.
    static func lineInfo(of bytes: [UInt8]) -> (ELFSections, BTFTypes, [UInt8])? {
        guard let elf = ELFSections(bytes), let btfSection = elf.section(named: ".BTF"),
              let btf = BTFTypes(Array(elf.contents(btfSection))), let ext = elf.section(named: ".BTF.ext") else { return nil }
        return (elf, btf, Array(elf.contents(ext)))
    }

    /// The byte offset in section `index` of its first `call` relocated against the undefined
    /// symbol `name` (a `__ksym` extern).
    static func firstCall(to name: String, section index: Int, elf: ELFSections, symbols: [ObjectRequirements.Symbol]) -> Int? {
        let code = elf.sections[index]
        return ObjectRequirements.relocations(of: index, elf, symbols: symbols)
            .filter { offset, symbol in
                symbol.name == name && symbol.section == 0 && offset + 8 <= code.size
                    && elf.bytes[code.offset + offset] == 0x85 /* BPF_JMP | BPF_CALL */
            }
            .keys.min()
    }

    /// The line of program section `section` whose text is `quoted`, as an older kernel's verifier
    /// quotes it (`; text`, without the ` @ file:line` newer ones add, as 6.1 does); nil when no line, or
    /// lines on more than one line number, carry that text.
    package static func line(quoting quoted: String, section: String, in bytes: [UInt8]) -> VerifierLog.SourceLine? {
        guard let (_, btf, ext) = lineInfo(of: bytes) else { return nil }
        let text = quoted.trimmed()
        let matching = lineRecords(section: section, lineInfo: ext, btf: btf).filter { btf.string(at: $0.text).trimmed() == text }
        guard let first = matching.first, matching.allSatisfy({ $0.line == first.line && $0.file == first.file }) else { return nil }
        return sourceLine(first, btf: btf)
    }

    /// The line info record of `section` that covers the instruction at byte offset `offset`: the
    /// last one at or before it.
    static func line(before offset: Int, section: String, lineInfo ext: [UInt8], btf: BTFTypes) -> VerifierLog.SourceLine? {
        lineRecords(section: section, lineInfo: ext, btf: btf).last { $0.offset <= offset }.flatMap { sourceLine($0, btf: btf) }
    }

    struct LineRecord {
        /// The instruction's byte offset in its section (an object file's; the kernel counts instructions).
        var offset: Int
        var file: UInt32
        var text: UInt32
        var line: UInt32
    }

    /// `section`'s line info records, in instruction order. `.BTF.ext`: magic, version, flags,
    /// header length, then offset and length of func info and of line info; line info is a record
    /// size, then per section its name, a count and records of instruction offset, file name, line
    /// text and line << 10 | column, names as offsets into `.BTF`'s strings.
    static func lineRecords(section: String, lineInfo ext: [UInt8], btf: BTFTypes) -> [LineRecord] {
        guard ext.count >= 24, ext.littleEndian(UInt16.self, at: 0) == 0xEB9F else { return [] }
        let header = Int(ext.littleEndian(UInt32.self, at: 4))
        let start = header + Int(ext.littleEndian(UInt32.self, at: 16)), length = Int(ext.littleEndian(UInt32.self, at: 20))
        guard length >= 4, start + length <= ext.count else { return [] }
        let recordSize = Int(ext.littleEndian(UInt32.self, at: start))
        guard recordSize >= 16 else { return [] }
        var at = start + 4
        while at + 8 <= start + length {
            let name = btf.string(at: ext.littleEndian(UInt32.self, at: at))
            let count = Int(ext.littleEndian(UInt32.self, at: at + 4))
            at += 8
            if name == section {
                return (0..<count).prefix { at + ($0 + 1) * recordSize <= start + length }.map { record in
                    let base = at + record * recordSize
                    return LineRecord(offset: Int(ext.littleEndian(UInt32.self, at: base)), file: ext.littleEndian(UInt32.self, at: base + 4),
                                      text: ext.littleEndian(UInt32.self, at: base + 8), line: ext.littleEndian(UInt32.self, at: base + 12) >> 10)
                }
            }
            at += count * recordSize
        }
        return []
    }

    static func sourceLine(_ record: LineRecord, btf: BTFTypes) -> VerifierLog.SourceLine? {
        guard record.line > 0 else { return nil }
        return VerifierLog.SourceLine(file: btf.string(at: record.file), line: Int(record.line), text: btf.string(at: record.text).trimmed())
    }
}
