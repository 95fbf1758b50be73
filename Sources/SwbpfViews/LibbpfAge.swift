import SwbpfModel

/// Kernel-part failures that a newer libbpf would fix: a helper or macro that newer libbpf
/// headers define (`bpf_ksym_exists`, `bpf_for_each`, `__arg_ctx`, ...) used with older headers.
/// clang then warns of an implicit declaration (or, since clang 16, refuses it) and the call to
/// the unknown function fails when bpftool links the object.
package enum LibbpfAge {
    /// Name prefixes of what libbpf's BPF-side headers (bpf_helpers.h, bpf_tracing.h,
    /// bpf_core_read.h, ...) declare.
    package static let libbpfPrefixes = ["bpf_", "BPF_", "__bpf", "__arg_", "__kptr", "__percpu_kptr", "__ksym", "__kconfig",
                                 "barrier_var", "can_loop", "cond_break", "__contains", "__uint", "__type", "__array"]

    /// The libbpf-like name the output says is undeclared, or nil.
    package static func undeclaredName(in output: [UInt8]) -> String? {
        let text = String(decoding: output, as: UTF8.self)
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

    package static func hint(name: String, libbpf: LibbpfInUse) -> String {
        if libbpf.fromSource {
            return "'\(name)' is not declared by \(libbpf.summary), which this build uses: check the name; a kfunc needs its own declaration (extern ... __ksym)"
        }
        return "'\(name)' is not declared by \(libbpf.summary), which this build uses; newer libbpf headers define more helpers and macros: build with a newer libbpf from its source tree ([libbpf] source = \"DIR\" in swbpf.toml, or a libbpf checkout at ../../libbpf as libbpf-bootstrap has it), or set LIBBPF_OBJ to a newer libbpf.a with its headers beside it"
    }
}
