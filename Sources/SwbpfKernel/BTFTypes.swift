/// The types of a BTF blob (an object's `.BTF` section, a kernel's BTF), read from its bytes:
/// enough to follow a map definition in `.maps` to its `type` and to name the functions an object
/// declares. The layout is the kernel's `include/uapi/linux/btf.h`.
package struct BTFTypes {
    package enum Kind: UInt32 {
        case integer = 1, pointer, array, structure, union, enumeration, forward, typedef, volatile, constant, restrict
        case function, functionPrototype, variable, dataSection, float, declarationTag, typeTag, enumeration64
    }

    package struct Entry {
        package var kind: Kind
        package var name: String
        /// The size, or the type it refers to (pointers, typedefs, qualifiers, variables, functions).
        package var sizeOrType: UInt32
        /// Members of a struct or union, variables of a data section, enumerators (type 0): (name, type).
        package var members: [(name: String, type: UInt32)] = []
        /// An array's element count.
        package var count: UInt32 = 0
    }

    /// Index 0 is `void` (nil); type ids count from 1.
    package let types: [Entry?]
    private let bytes: [UInt8]
    private let strings: Range<Int>

    /// The string at `offset` of the string section (`.BTF.ext` records name them so).
    package func string(at offset: UInt32) -> String {
        bytes.cString(at: strings.lowerBound + Int(offset), limit: strings.upperBound)
    }

    /// nil when the bytes are not BTF or a type runs past the end.
    package init?(_ bytes: [UInt8]) {
        guard bytes.count >= 24, bytes.littleEndian(UInt16.self, at: 0) == 0xEB9F else { return nil }
        let header = Int(bytes.littleEndian(UInt32.self, at: 4))
        let typeStart = header + Int(bytes.littleEndian(UInt32.self, at: 8)), typeLength = Int(bytes.littleEndian(UInt32.self, at: 12))
        let stringStart = header + Int(bytes.littleEndian(UInt32.self, at: 16)), stringLength = Int(bytes.littleEndian(UInt32.self, at: 20))
        guard typeStart + typeLength <= bytes.count, stringStart + stringLength <= bytes.count else { return nil }
        func string(_ offset: UInt32) -> String {
            bytes.cString(at: stringStart + Int(offset), limit: stringStart + stringLength)
        }
        var types: [Entry?] = [nil]
        var at = typeStart
        let end = typeStart + typeLength
        while at + 12 <= end {
            let info = bytes.littleEndian(UInt32.self, at: at + 4)
            let vlen = Int(info & 0xFFFF)
            guard let kind = Kind(rawValue: (info >> 24) & 0x1F) else { return nil }
            var entry = Entry(kind: kind, name: string(bytes.littleEndian(UInt32.self, at: at)),
                              sizeOrType: bytes.littleEndian(UInt32.self, at: at + 8))
            at += 12
            let trailer: Int
            switch kind {
            case .integer, .variable, .declarationTag: trailer = 4
            case .array:
                trailer = 12
                entry.count = bytes.littleEndian(UInt32.self, at: at + 8)
            case .structure, .union:
                trailer = vlen * 12
                entry.members = (0..<vlen).map { (string(bytes.littleEndian(UInt32.self, at: at + $0 * 12)),
                                                  bytes.littleEndian(UInt32.self, at: at + $0 * 12 + 4)) }
            case .dataSection:
                trailer = vlen * 12
                entry.members = (0..<vlen).map { index in
                    let variable = bytes.littleEndian(UInt32.self, at: at + index * 12)
                    return ("", variable)
                }
            case .enumeration, .enumeration64:
                let width = kind == .enumeration ? 8 : 12
                trailer = vlen * width
                entry.members = (0..<vlen).map { (string(bytes.littleEndian(UInt32.self, at: at + $0 * width)), 0) }
            case .functionPrototype: trailer = vlen * 8
            case .pointer, .forward, .typedef, .volatile, .constant, .restrict, .function, .float, .typeTag: trailer = 0
            }
            guard at + trailer <= end else { return nil }
            at += trailer
            types.append(entry)
        }
        self.bytes = bytes
        self.strings = stringStart..<(stringStart + stringLength)
        // A data section's members are its variables: name them now that every type is read.
        self.types = types.map { entry in
            guard var entry, entry.kind == .dataSection else { return entry }
            entry.members = entry.members.map { member in
                (Int(member.type) < types.count ? types[Int(member.type)]?.name ?? "" : "", member.type)
            }
            return entry
        }
    }

    /// The enumerators whose existence the object checks (`bpf_core_enum_value_exists()`: CO-RE
    /// relocations of kind BPF_CORE_ENUMVAL_EXISTS in `.BTF.ext`), without libbpf's `___flavour`
    /// suffix: `BPF_FUNC_get_attach_cookie`.
    package func checkedEnumerators(extended ext: [UInt8]) -> Set<String> {
        // .BTF.ext: magic, version, flags, header length, then offset/length pairs for func info,
        // line info and (in a header of 32 bytes or more) CO-RE relocations.
        guard ext.count >= 32, ext.littleEndian(UInt16.self, at: 0) == 0xEB9F else { return [] }
        let header = Int(ext.littleEndian(UInt32.self, at: 4))
        guard header >= 32 else { return [] }
        let start = header + Int(ext.littleEndian(UInt32.self, at: 24)), length = Int(ext.littleEndian(UInt32.self, at: 28))
        guard length >= 4, start + length <= ext.count else { return [] }
        let recordSize = Int(ext.littleEndian(UInt32.self, at: start))
        guard recordSize >= 16 else { return [] }
        var names = Set<String>()
        var at = start + 4
        // Per section: its name, its record count, then the records (insn_off, type_id, access string, kind).
        while at + 8 <= start + length {
            let count = Int(ext.littleEndian(UInt32.self, at: at + 4))
            at += 8
            for record in 0..<count where at + (record + 1) * recordSize <= start + length {
                let base = at + record * recordSize
                guard ext.littleEndian(UInt32.self, at: base + 12) == 10 /* BPF_CORE_ENUMVAL_EXISTS */,
                      let enumeration = resolved(ext.littleEndian(UInt32.self, at: base + 4))?.entry,
                      let index = Int(string(at: ext.littleEndian(UInt32.self, at: base + 8))),
                      index < enumeration.members.count else { continue }
                let name = enumeration.members[index].name
                names.insert(name.firstRange(of: "___").map { String(name[..<$0.lowerBound]) } ?? name)
            }
            at += count * recordSize
        }
        return names
    }

    package subscript(id id: UInt32) -> Entry? { Int(id) < types.count ? types[Int(id)] : nil }

    /// The type `id` names once typedefs and qualifiers are looked through.
    package func resolved(_ id: UInt32) -> (id: UInt32, entry: Entry)? {
        var current = id
        for _ in 0..<32 {
            guard let entry = self[id: current] else { return nil }
            switch entry.kind {
            case .typedef, .volatile, .constant, .restrict, .typeTag: current = entry.sizeOrType
            default: return (current, entry)
            }
        }
        return nil
    }

    /// The map definitions of `.maps` (libbpf's BTF-defined maps): each variable's name and the
    /// number its `type` member carries (`__uint(type, X)` is `int (*type)[X]`), nil when absent.
    package func mapTypes() -> [(name: String, type: UInt32?)] {
        guard let section = types.first(where: { $0?.kind == .dataSection && $0?.name == ".maps" }) ?? nil else { return [] }
        return section.members.map { variable in
            guard let declared = self[id: variable.type], declared.kind == .variable,
                  let definition = resolved(declared.sizeOrType)?.entry, definition.kind == .structure,
                  let member = definition.members.first(where: { $0.name == "type" }),
                  let pointer = resolved(member.type)?.entry, pointer.kind == .pointer,
                  let array = resolved(pointer.sizeOrType)?.entry, array.kind == .array else {
                return (variable.name, nil)
            }
            return (variable.name, array.count)
        }
    }
}
