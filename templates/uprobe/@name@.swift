// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
//
// @name@.swift - user part of @name@, in Swift.
//
// The build compiles @name@.bpf.c and `bpftool gen skeleton` turns the
// object into @name@.skel.h: struct @name@_bpf with a field per program
// (skel.pointee.progs.target_entry, .target_exit), map
// (skel.pointee.maps.events) and link (skel.pointee.links.*), plus
// @name@_bpf__open/load/destroy. swbpf makes that header, libbpf's API
// and @name@.h one Clang module, C@name@, so this file calls them directly,
// as @name@.c would. It loads the programs, attaches them as a uprobe and a
// uretprobe on @name@_target() in this very binary, then calls that
// function once a second and prints what the probes saw.

// @preconcurrency: C globals (stdout, stderr, optarg) and libbpf's types predate
// Swift's concurrency checking; this program uses them from one thread.
@preconcurrency import Glibc
@preconcurrency import C@name@
import Synchronization

/// Set by the signal handler, read by the main loop. An atomic may be
/// stored from a signal handler (it is lock-free); a plain variable would
/// be a data race, which the optimiser may turn into an endless loop.
let exiting = Atomic<Bool>(false)

struct Options {
    var verbose = false
    var loadOnly = false
    var duration: UInt32 = 0  // seconds; 0 = until SIGINT/SIGTERM
}

/// The probed function. libbpf finds it by name in the ELF symbol table of
/// the binary, so it must exist as a real C function under this exact
/// name: @_cdecl emits one (a C-callable entry beside the Swift function)
/// and public keeps the symbol. Calls from Swift would go to the Swift
/// function and skip the probed entry, so the loop calls it through a C
/// function pointer (below), as a C caller would.
@_cdecl("@name@_target")
public func target(_ a: Int32, _ b: Int32) -> Int32 {
    a &+ b
}

/// The C entry of target(), as a C function pointer. A public variable:
/// the optimiser cannot prove it keeps this value, so it cannot inline the
/// call or drop it.
nonisolated(unsafe) public var targetFunction: @convention(c) (Int32, Int32) -> Int32 = target

@main
enum App {
    static func main() {
        // First thing, so that a Ctrl-C during start-up already takes the
        // clean exit path. No SA_RESTART: a signal interrupts sleep() at
        // once. SIGALRM implements --duration.
        stopOnSignals([SIGINT, SIGTERM, SIGALRM])
        exit(run(parseOptions()))
    }

    static func run(_ options: Options) -> Int32 {
        // Line-buffer stdout so a pipe reader sees each line as it is printed.
        setvbuf(stdout, nil, _IOLBF, 0)
        // libbpf logs through this callback; with none it stays silent.
        libbpf_set_print(options.verbose ? printToStderr : nil)

        // Open: parse the embedded object; nothing is in the kernel yet.
        // A kernel without BTF of its own: use the one btf-for made (custom_btf.h).
        var openOptions = bpf_object_open_opts()
        openOptions.sz = MemoryLayout<bpf_object_open_opts>.size
        guard use_custom_btf("@name@", &openOptions) == 0 else { return 1 }
        guard let skel = @name@_bpf__open_opts(&openOptions) else {
            fail("failed to open BPF skeleton: \(errorText(errno))")
            return 1
        }
        // Runs on every return below; destroy detaches the links and unloads.
        defer { @name@_bpf__destroy(skel) }

        // Load: create the maps and run the verifier over the programs.
        let err = @name@_bpf__load(skel)
        if err != 0 {
            fail("failed to load BPF skeleton: \(errorText(-err))")
            return 1
        }

        if options.loadOnly {
            print("@name@: loaded \(programCount(skel.pointee.obj)) programs (verifier accepted)")
            return 0
        }

        // Store the links in the skeleton: @name@_bpf__destroy() then
        // detaches them like the ones its own attach() would have made.
        skel.pointee.links.target_entry = attachTarget(skel.pointee.progs.target_entry, retprobe: false)
        if skel.pointee.links.target_entry == nil {
            fail("failed to attach uprobe: \(errorText(errno))")
            return 1
        }
        skel.pointee.links.target_exit = attachTarget(skel.pointee.progs.target_exit, retprobe: true)
        if skel.pointee.links.target_exit == nil {
            fail("failed to attach uretprobe: \(errorText(errno))")
            return 1
        }

        // Map the ring buffer; handleEvent() runs once per record. A
        // closure that captures nothing is a plain C function pointer,
        // which is what libbpf's callback is.
        guard let rb = ring_buffer__new(bpf_map__fd(skel.pointee.maps.events),
                                        { _, data, size in handleEvent(data, size) }, nil, nil) else {
            fail("failed to create ring buffer: \(errorText(errno))")
            return 1
        }
        defer { ring_buffer__free(rb) }

        print("@name@: probing @name@_target() in pid \(getpid())")

        if options.duration > 0 {
            alarm(options.duration)
        }

        var i: Int32 = 1
        while !exiting.load(ordering: .relaxed) {
            // Both probes run synchronously in this thread, inside this
            // call, so their records are in the ring buffer when it
            // returns. To watch another process, poll instead:
            // ring_buffer__poll() waits until records arrive.
            _ = targetFunction(i, 2 &* i)

            // Read whatever is in the ring now, without waiting.
            let err = ring_buffer__consume(rb)
            if err < 0 {
                fail("error reading ring buffer: \(errorText(-err))")
                return 1
            }
            sleep(1)
            i += 1
        }
        return 0
    }
}

/// Called by ring_buffer__consume() for each record, with the bytes the BPF
/// program reserved and submitted; loadUnaligned copies them into a value
/// of the C struct's type. Returning non-zero would stop consuming.
func handleEvent(_ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    guard let data, size >= MemoryLayout<@name@_call_event>.size else {
        return 0
    }
    let e = data.loadUnaligned(as: @name@_call_event.self)
    // The C enum's constants arrive as values of a struct type; its
    // rawValue is the number stored in the int field.
    if e.kind == Int32(@NAME@_CALL_ENTRY.rawValue) {
        print("entry:  pid=\(e.pid) @name@_target(a=\(e.a), b=\(e.b))")
    } else if e.kind == Int32(@NAME@_CALL_RETURN.rawValue) {
        print("return: pid=\(e.pid) @name@_target() = \(e.ret)")
    }
    return 0
}

/// Attaches one program to @name@_target() in our own executable. pid 0
/// limits the probe to this process; -1 would catch every process that runs
/// the binary. libbpf resolves func_name to a file offset by reading the ELF
/// symbol table of binary_path; the kernel then plants the breakpoint in
/// the file's page, wherever the file is mapped.
func attachTarget(_ program: OpaquePointer?, retprobe: Bool) -> OpaquePointer? {
    var opts = bpf_uprobe_opts()
    prepareOptions(&opts)  // what LIBBPF_OPTS() does in C
    opts.retprobe = retprobe
    // libbpf reads func_name during the call only.
    return "@name@_target".withCString { name in
        opts.func_name = name
        return bpf_program__attach_uprobe_opts(program, 0 /* self */, "/proc/self/exe",
                                               0 /* offset within func_name */, &opts)
    }
}

// MARK: - Command line: the options of @name@.c, read with getopt_long(3) as it does

func usage(_ out: UnsafeMutablePointer<FILE>) {
    fputs("""
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [--load-only]
        Call @name@_target() once a second and print what a uprobe and a uretprobe see.

          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  exit after SECONDS (default: run until Ctrl-C)
              --load-only         load the programs (verifier check), then exit
          -h, --help              show this help

        """, out)
}

/// The options, or an exit: status 2 after a bad command line, 0 after -h.
func parseOptions() -> Options {
    let program = CommandLine.arguments[0]
    // getopt_long's table, as in @name@.c, ending in an all-zero row. Each
    // name is a strdup() copy that lives until exit: a Swift string passed
    // to C as a pointer lives only during that one call (here, option()).
    let longOptions = [
        option(name: strdup("verbose"), has_arg: no_argument, flag: nil, val: letter("v")),
        option(name: strdup("duration"), has_arg: required_argument, flag: nil, val: letter("d")),
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: loadOnlyOption),
        option(name: strdup("help"), has_arg: no_argument, flag: nil, val: letter("h")),
        option(),
    ]
    var options = Options()
    // As C's `while ((opt = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:h", longOptions, nil), opt != -1 {
        switch opt {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = decimalNumber(optarg), duration > 0, duration <= Int32.max else {
                fputs("\(program): invalid duration: \(String(cString: optarg))\n", stderr)
                exit(2)
            }
            options.duration = UInt32(duration)
        case loadOnlyOption:
            options.loadOnly = true
        case letter("h"):
            usage(stdout)
            exit(0)
        default:
            usage(stderr)
            exit(2)
        }
    }
    if optind < CommandLine.argc {
        fputs("\(program): unexpected argument: \(String(cString: CommandLine.unsafeArgv[Int(optind)]!))\n", stderr)
        exit(2)
    }
    return options
}

/// getopt_long's value for --load-only: a long-only option, outside the char range.
let loadOnlyOption: Int32 = 256

/// An option letter as getopt_long returns it: the int of C's 'v'.
func letter(_ character: Unicode.Scalar) -> Int32 {
    Int32(character.value)
}

/// The whole of `text` as a decimal number, read with strtol(3) as
/// @name@.c reads it (leading white space and a sign are allowed), or nil
/// for an empty text, anything after the digits, or an overflow.
func decimalNumber(_ text: UnsafePointer<CChar>) -> Int? {
    var end: UnsafeMutablePointer<CChar>?
    errno = 0
    let value = strtol(text, &end, 10)
    guard errno == 0, let end, UnsafePointer(end) != text, end.pointee == 0 else {
        return nil
    }
    return value
}

// MARK: - Small helpers around the C API

/// Installs one handler for `signals`: it only sets `exiting`, which is all
/// a signal handler may safely do. sa_flags stays 0 (no SA_RESTART), so a
/// blocking call returns EINTR when a signal arrives.
func stopOnSignals(_ signals: [Int32]) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in exiting.store(true, ordering: .relaxed) }
    sigemptyset(&action.sa_mask)
    for signal in signals {
        sigaction(signal, &action, nil)
    }
}

/// libbpf's log callback for -v: libbpf passes a printf format and its
/// va_list, which vfprintf() formats as in C.
func printToStderr(_ level: libbpf_print_level, _ format: UnsafePointer<CChar>?, _ args: CVaListPointer?) -> Int32 {
    guard let format, let args else {
        return 0
    }
    return vfprintf(stderr, format, args)
}

/// Fills a libbpf options struct as C's LIBBPF_OPTS() macro does (Swift
/// does not import macros): every byte zero, then the leading `sz` field,
/// which tells libbpf how much of the struct this program knows. Swift's
/// own init() zeroes the fields but not the padding between and after
/// them, and libbpf refuses an options struct with non-zero bytes past the
/// fields it knows ("has non-zero extra bytes").
func prepareOptions<LibbpfOptions>(_ options: inout LibbpfOptions) {
    withUnsafeMutableBytes(of: &options) { bytes in
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.storeBytes(of: bytes.count, as: Int.self)
    }
}

/// The number of programs in a BPF object. C has the macro
/// bpf_object__for_each_program(); Swift does not import macros, so this is
/// the loop it stands for.
func programCount(_ object: OpaquePointer?) -> Int {
    var count = 0
    var program = bpf_object__next_program(object, nil)
    while let current = program {
        count += 1
        program = bpf_object__next_program(object, current)
    }
    return count
}

/// strerror(3) of a positive errno value.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Prints "@name@: MESSAGE" on stderr.
func fail(_ message: String) {
    fputs("@name@: \(message)\n", stderr)
}
