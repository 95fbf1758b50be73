import SwbpfModel

/// Turns well-known tool failures into a line that names the missing Debian package.
package enum Hints {
    private static let table: [(needle: String, hint: String)] = [
        ("sys/sdt.h", "sys/sdt.h comes from Debian's systemtap-sdt-dev: apt-get install systemtap-sdt-dev"),
        ("bpf/bpf_helpers.h", "libbpf's headers are missing: apt-get install libbpf-dev (or set LIBBPF_OBJ to a libbpf build with its headers)"),
        ("bpf/libbpf.h", "libbpf's headers are missing: apt-get install libbpf-dev"),
        ("libelf.h", "libelf's headers are missing: apt-get install libelf-dev"),
        ("gelf.h", "libelf's headers are missing: apt-get install libelf-dev"),
        ("zlib.h", "zlib's headers are missing: apt-get install zlib1g-dev"),
        ("cannot find -lelf", "libelf is missing: apt-get install libelf-dev"),
        ("cannot find -lz", "zlib is missing: apt-get install zlib1g-dev"),
        ("asm/types.h", "the kernel's UAPI headers are missing: apt-get install linux-libc-dev"),
        ("vmlinux.h' file not found", "vmlinux.h was not found: swbpf generates it into the output directory from the kernel's BTF; check VMLINUX and the include dirs"),
    ]

    package static func hint(for output: [UInt8], step: Step) -> String? {
        if let libbpf = step.libbpf, let hint = LibbpfAge.hint(for: output, libbpf: libbpf) { return hint }
        return hint(for: output)
    }

    package static func hint(for output: [UInt8]) -> String? {
        let text = String(decoding: output, as: UTF8.self)
        return table.first { text.contains($0.needle) && (text.contains("not found") || text.contains("No such file") || text.contains("cannot find")) }?.hint
    }
}
