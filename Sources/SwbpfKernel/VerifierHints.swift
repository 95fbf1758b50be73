/// What a verifier refusal usually means, and how programs get past it: matched on the messages
/// the kernel's verifier prints (kernel/bpf/verifier.c), first match wins, so the specific
/// entries come before the general ones.
public struct VerifierHint: Sendable, Equatable, Codable {
    /// The cause in a few words (`missing NULL check`).
    public var cause: String
    /// What to change.
    public var help: String

    /// What the verifier says of an access it cannot bound.
    package static let unboundedAccess = ["invalid access to map value", "outside of the allowed memory range", "min value is negative",
                                          "unbounded memory access", "invalid access to memory", "invalid variable-offset",
                                          "invalid access to packet"]

    package static let table: [(needles: [String], hint: VerifierHint)] = [
        (["_or_null'", "Possibly NULL pointer passed"], VerifierHint(
            cause: "missing NULL check after bpf_map_lookup_elem() (or another helper that may return NULL)",
            help: "bpf_map_lookup_elem() returns NULL when the key is absent, and the verifier makes you handle that: test the pointer before using it, e.g. 'if (!value) return 0;'")),
        (unboundedAccess, VerifierHint(
            cause: "unbounded or unchecked index into a map value or array",
            help: "the verifier must prove every offset stays inside the value: check the index against the array's size before indexing ('if (i >= N) return 0;', or 'i &= N - 1' for a power-of-two N); for packets, compare against data_end first")),
        (["infinite loop detected", "back-edge from insn", "BPF program is too large", "jumps is too complex", "loop is not bounded"], VerifierHint(
            cause: "a loop the verifier cannot prove ends (or too many paths to explore)",
            help: "give the loop a constant bound the verifier can see ('for (int i = 0; i < 64 && i < n; i++)'), use bpf_loop() (Linux 5.17+), or split the work across programs; the verifier explores at most 1 million instructions")),
        (["combined stack size", "invalid write to stack", "invalid indirect access to stack"], VerifierHint(
            cause: "stack size: a BPF program has 512 bytes of stack",
            help: "move large buffers and structs off the stack into a per-CPU array map (BPF_MAP_TYPE_PERCPU_ARRAY with one entry) or a ring buffer reservation")),
        (["invalid read from stack", "!read_ok", "invalid indirect read from stack"], VerifierHint(
            cause: "uninitialized stack variable or register",
            help: "the verifier rejects reads of memory that was never written: initialize structs and buffers before passing them to a helper (struct x v = {}; or __builtin_memset)")),
        (["cannot call GPL-restricted function"], VerifierHint(
            cause: "a GPL-only helper in a program whose license is not GPL-compatible",
            help: "declare a GPL-compatible license: char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\";")),
        (["unknown func", "program of this type cannot use helper", "helper call is not allowed", "not allowed for prog type",
          "cannot be called from", "calling kernel function", "is not allowed in"], VerifierHint(
            cause: "a helper not allowed for this program type",
            help: "each program type may call only some helpers (and some need a newer kernel): check the helper's man page (man 7 bpf-helpers) for the program types it supports, or use another program type")),
        (["invalid func unknown#195896080", "bad CO-RE relocation"], VerifierHint(
            cause: "a CO-RE relocation libbpf could not resolve for this kernel",
            help: "a field or type the program reads does not exist in this kernel's BTF: guard it with bpf_core_field_exists() or bpf_core_type_exists(), or read another field")),
        (["Unreleased reference", "reference leak"], VerifierHint(
            cause: "a reference never released (a ring buffer reservation, a socket, a task)",
            help: "every path must release what it acquired: submit or discard each bpf_ringbuf_reserve(), release each bpf_sk_lookup_*() and acquired kernel object")),
        (["invalid bpf_context access", "dereference of modified ctx ptr"], VerifierHint(
            cause: "invalid access to the program's context",
            help: "read the context only at offsets its type allows and through the original pointer; for tracing programs use the BPF_PROG/BPF_KPROBE macros or BPF_CORE_READ()")),
        (["At program exit the register R0", "R0 !read_ok"], VerifierHint(
            cause: "the program's return value is missing or out of range",
            help: "return a value this program type accepts (for example XDP_PASS for XDP, 0 for tracing programs) on every path")),
        (["invalid mem access 'scalar'", "invalid mem access 'inv'", "invalid mem access"], VerifierHint(
            cause: "invalid memory access",
            help: "only pointers the verifier knows may be dereferenced: read kernel memory through bpf_probe_read_kernel() or BPF_CORE_READ(), and user memory through bpf_probe_read_user()")),
    ]

    /// An unbounded access in code that widens its 32-bit values: the program's own check was on
    /// another copy of the value, so the fix is the ISA that keeps 32-bit values in 32 bits, not
    /// one more bounds check.
    package static let widenedIndex = VerifierHint(
        cause: "a bounds check lost when a 32-bit value is widened to 64 bits (the BPF ISA before v3 has no 32-bit registers)",
        help: "compile the kernel part with -mcpu=v3 (Linux 5.1+): 32-bit operations then stay in 32-bit registers, whose bounds the verifier keeps, and the check the program has holds. In swbpf.toml: [app.NAME] bpf-cflags = [\"-mcpu=v3\"] (clang 20 and later use v3 by default). Only if that is not enough, bound the index once more right before the access")

    /// The hint for a refusal, from the verifier's message and its details; `widened` when the
    /// program's code widens its 32-bit values (`VerifierLog.widensThirtyTwoBitValues`).
    public static func forRefusal(message: String?, details: [String], libbpfLog: String, widened: Bool = false) -> VerifierHint? {
        let text = ([message ?? ""] + details + [libbpfLog]).joined(separator: "\n")
        if widened, unboundedAccess.contains(where: { text.contains($0) }) { return widenedIndex }
        return table.first { entry in entry.needles.contains { text.contains($0) } }?.hint
    }

    /// The hint for a program type the kernel would not even verify.
    package static func kernelRefused(kind: ProgramKind?, type: String, status: Int32) -> VerifierHint {
        let what = kind.map(\.programs) ?? "\(type) programs"
        return VerifierHint(cause: "this kernel refuses \(what) (\(Errno.name(status)) before verification)",
                            help: "nothing in the program can fix this: the kernel (its configuration, lockdown or a security policy) does not allow this program type; 'swbpf doctor' lists what it allows. Use another program type here, or run on a kernel that allows it")
    }

    package init(cause: String, help: String) {
        self.cause = cause
        self.help = help
    }
}
