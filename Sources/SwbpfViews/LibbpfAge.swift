import SwbpfModel

/// Compile failures that a newer libbpf would fix: a macro, type, function or struct member that
/// newer libbpf headers have, used with older ones. The compiler's message rarely names it
/// (`BPF_UPROBE(...)` with libbpf 1.1 gives "expected identifier"; `__ulong(...)` gives "type name
/// requires a specifier or qualifier"), so the names are looked for in the source lines it quotes,
/// and the help line says only what is known: the libbpf this build uses, and the release that
/// added the name.
package enum LibbpfAge {
    /// What libbpf added in which release. Each is absent from Debian 12's libbpf 1.1.2 headers and
    /// present in libbpf 1.6's (`LibbpfAgeTests` keeps that true). The releases were checked against
    /// libbpf's own history: the v1.2.0 release notes (open-coded iterators `bpf_for`, `bpf_repeat`,
    /// `bpf_for_each`, and `bpf_ksym_exists`; `BPF_UPROBE`/`BPF_URETPROBE` are named as added in
    /// v1.2.0 where libbpf-tools adopted them); the libbpf.map node of the API a type came with
    /// (`bpf_program__attach_uprobe_multi` and its opts: LIBBPF_1.3.0; `bpf_token_create`, with
    /// `bpf_token_path`: LIBBPF_1.4.0); the v1.4.0 release notes (BPF token, `__arg_ctx` and the
    /// other argument tags, `bpf_core_cast`, BPF arena maps, whose `map_extra` is what `__ulong`
    /// was added to set: no stored release before 1.6 was at hand to confirm `__ulong` by its
    /// header alone). A member is written `struct.member`.
    package static let additions: [(name: String, version: String, header: String)] = [
        ("BPF_UPROBE", "1.2", "bpf/bpf_tracing.h"),
        ("BPF_URETPROBE", "1.2", "bpf/bpf_tracing.h"),
        ("bpf_ksym_exists", "1.2", "bpf/bpf_helpers.h"),
        ("bpf_for", "1.2", "bpf/bpf_helpers.h"),
        ("bpf_for_each", "1.2", "bpf/bpf_helpers.h"),
        ("bpf_repeat", "1.2", "bpf/bpf_helpers.h"),
        ("bpf_uprobe_multi_opts", "1.3", "bpf/libbpf.h"),
        ("__ulong", "1.4", "bpf/bpf_helpers.h"),
        ("__arg_ctx", "1.4", "bpf/bpf_helpers.h"),
        ("bpf_core_cast", "1.4", "bpf/bpf_core_read.h"),
        ("bpf_object_open_opts.bpf_token_path", "1.4", "bpf/libbpf.h"),
    ]

    /// Name prefixes of what libbpf's BPF-side headers (bpf_helpers.h, bpf_tracing.h,
    /// bpf_core_read.h, ...) declare.
    package static let libbpfPrefixes = ["bpf_", "BPF_", "__bpf", "__arg_", "__kptr", "__percpu_kptr", "__ksym", "__kconfig",
                                 "barrier_var", "can_loop", "cond_break", "__contains", "__uint", "__type", "__array"]

    /// The help line for a failed compile against `libbpf`, or nil when nothing says a newer
    /// libbpf would help.
    package static func hint(for output: [UInt8], libbpf: LibbpfInUse) -> String? {
        let text = String(decoding: output, as: UTF8.self)
        if let addition = addition(in: text), older(libbpf.version, than: addition.version) {
            let name = addition.name.replacing(".", with: "'s member '")
            return "'\(name)' needs libbpf \(addition.version) or newer (\(addition.header) has it since \(addition.version)); "
                + "this build uses \(libbpf.summary): " + howToUseNewer(than: addition.version)
        }
        guard let name = undeclaredName(in: text) else { return nil }
        if libbpf.fromSource {
            return "'\(name)' is not declared by \(libbpf.summary), which this build uses: check the name; a kfunc needs its own declaration (extern ... __ksym)"
        }
        return "'\(name)' is not declared by \(libbpf.summary), which this build uses; newer libbpf headers define more helpers and macros: "
            + howToUseNewer(than: nil)
    }

    private static func howToUseNewer(than version: String?) -> String {
        let which = version.map { "libbpf \($0) or newer" } ?? "a newer libbpf"
        return "build with \(which) from its source tree (a libbpf submodule at ../libbpf, ../../libbpf or third_party/libbpf, "
            + "as the project's Makefile has it, or [libbpf] source = \"DIR\" in swbpf.toml), or set LIBBPF_OBJ to its libbpf.a with its headers beside it"
    }

    /// The first addition the failed step's output names: a struct member in a "no member named"
    /// error, or a name among the words of its messages and the source lines the compiler quotes
    /// (bpftool's link error names an undeclared function it met as an extern symbol).
    static func addition(in text: String) -> (name: String, version: String, header: String)? {
        let words = identifiers(in: text)
        return additions.first { addition in
            let parts = addition.name.split(separator: ".").map(String.init)
            if parts.count == 2 {
                return text.contains("no member named") && words.contains(parts[0]) && words.contains(parts[1])
            }
            return words.contains(addition.name)
        }
    }

    /// Whether `version` (`1.1.2`, `1.1`) is older than `added` (`1.2`); an unknown version is.
    static func older(_ version: String?, than added: String) -> Bool {
        guard let version else { return true }
        let have = version.split(separator: ".").compactMap { Int($0) }
        let need = added.split(separator: ".").compactMap { Int($0) }
        return Array(have.prefix(need.count)).lexicographicallyPrecedes(need)
    }

    /// The C identifiers in `text`.
    static func identifiers(in text: String) -> Set<String> {
        func isWordByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
        let words = text.utf8.split(whereSeparator: { !isWordByte($0) })
            .filter { !($0.first! >= UInt8(ascii: "0") && $0.first! <= UInt8(ascii: "9")) }
        return Set(words.map { String(decoding: $0, as: UTF8.self) })
    }

    /// The libbpf-like name the output says is undeclared, or nil.
    package static func undeclaredName(in text: String) -> String? {
        let phrases = ["implicit declaration of function '", "call to undeclared function '", "use of undeclared identifier '",
                       "failed to find BTF info for global/extern symbol '"]
        for phrase in phrases {
            var rest = Substring(text)
            while let range = rest.firstRange(of: phrase) {
                let name = rest[range.upperBound...].prefix { $0 != "'" }
                if libbpfPrefixes.contains(where: name.hasPrefix) { return String(name) }
                rest = rest[range.upperBound...]
            }
        }
        return nil
    }
}
