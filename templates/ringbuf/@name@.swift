// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// @name@.swift - user-space half of @name@, in Swift.
//
// Loads @name@.bpf.o through the skeleton that `bpftool gen skeleton`
// generated (@name@.skel.h), attaches the exec and exit tracepoint
// programs, then drains the "events" ring buffer and prints one table row
// per record until Ctrl-C or the -d deadline. swbpf makes the skeleton,
// libbpf's API and @name@.h one Clang module, C@name@, so this file calls
// @name@_bpf__open() and ring_buffer__new() directly, as @name@.c does.
//
// Usage: @name@ [-v] [-d SECONDS] [-D MS] [--load-only]

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
    var duration = 0         // seconds; 0 = until Ctrl-C
    var minDurationMs = 0
}

@main
enum App {
    static func main() {
        // First thing, so that a Ctrl-C during start-up already takes the
        // clean exit path. No SA_RESTART: a signal interrupts the epoll
        // wait right away.
        stopOnSignals([SIGINT, SIGTERM])
        exit(run(parseOptions()))
    }

    static func run(_ options: Options) -> Int32 {
        // Rows must reach a pipe (or a test reading it) as they happen.
        setvbuf(stdout, nil, _IOLBF, 0)
        // libbpf reports through this callback; with none it stays quiet.
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
        // One exit path, as in C: whatever return is taken below, this
        // detaches the programs and closes the maps and the object.
        defer { @name@_bpf__destroy(skel) }

        // .rodata is still writable here; load freezes it.
        skel.pointee.rodata.pointee.min_duration_ns = UInt64(options.minDurationMs) &* 1_000_000

        // Load: create the maps and run every program through the verifier.
        var err = @name@_bpf__load(skel)
        if err != 0 {
            fail("failed to load BPF skeleton: \(errorText(-err))")
            return 1
        }

        if options.loadOnly {
            print("@name@: loaded \(programCount(skel.pointee.obj)) programs (verifier accepted)")
            return 0
        }

        // Attach each program to the tracepoint named by its SEC(); the
        // links are kept in skel.pointee.links and released by __destroy().
        err = @name@_bpf__attach(skel)
        if err != 0 {
            fail("failed to attach BPF programs: \(errorText(-err))")
            return 1
        }

        // The ring buffer map's fd comes from the skeleton; libbpf mmaps the
        // buffer and calls handleEvent() for each record. A closure that
        // captures nothing is a plain C function pointer, which is what
        // libbpf's callback is.
        guard let rb = ring_buffer__new(bpf_map__fd(skel.pointee.maps.events),
                                        { _, data, size in handleEvent(data, size) }, nil, nil) else {
            fail("failed to create ring buffer: \(errorText(errno))")
            return 1
        }
        defer { ring_buffer__free(rb) }

        let deadline = options.duration > 0 ? monotonicSeconds() + Double(options.duration) : nil

        print("\(column("TIME", 8)) \(column("EVENT", 5)) \(column("COMM", 16)) \(column("PID", 7)) "
              + "\(column("PPID", 7)) \(column("FILENAME/EXIT CODE", 18)) DURATION")

        while !exiting.load(ordering: .relaxed) {
            // Wait up to 100 ms for records, so the deadline and the
            // exiting flag are checked regularly.
            err = ring_buffer__poll(rb, 100)
            if err == -EINTR {
                break
            }
            if err < 0 {
                fail("error polling ring buffer: \(errorText(-err))")
                return 1
            }
            if let deadline, monotonicSeconds() >= deadline {
                break
            }
        }
        return 0
    }
}

/// Called by ring_buffer__poll() once per submitted record. `data` points
/// straight into the memory-mapped ring buffer; loadUnaligned copies the
/// record into a value of the C struct's type.
func handleEvent(_ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    guard let data, size >= MemoryLayout<@name@_event>.size else {
        return 0
    }
    let e = data.loadUnaligned(as: @name@_event.self)
    let row = "\(clockTime()) \(column(e.kind == @NAME@_EVENT_EXEC.rawValue ? "EXEC" : "EXIT", 5)) "
        + "\(column(cString(e.comm), 16)) \(column(e.pid, 7)) \(column(e.ppid, 7))"

    if e.kind == @NAME@_EVENT_EXEC.rawValue {
        print("\(row) \(cString(e.filename))")
        return 0
    }

    // exit_code is a wait(2) status word: the low 7 bits hold the
    // terminating signal, bits 8-15 the exit status.
    let code = e.exit_code & 0x7f != 0 ? "[signal \(e.exit_code & 0x7f)]" : "[\((e.exit_code >> 8) & 0xff)]"
    // "-": exec not seen.
    let duration = e.duration_ns != 0 ? milliseconds(e.duration_ns) : "-"
    print("\(row) \(column(code, 18)) \(duration)")
    return 0
}

/// Nanoseconds as milliseconds with three decimals, "0.693ms" (rounded to
/// the nearest microsecond, as printf's %.3f does).
func milliseconds(_ nanoseconds: UInt64) -> String {
    let microseconds = (nanoseconds + 500) / 1000
    let fraction = String(microseconds % 1000)
    return "\(microseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)ms"
}

/// The local wall-clock time, "09:30:32".
func clockTime() -> String {
    var now = time(nil)
    var local = tm()
    localtime_r(&now, &local)
    let twoDigits = { (value: Int32) in value < 10 ? "0\(value)" : "\(value)" }
    return "\(twoDigits(local.tm_hour)):\(twoDigits(local.tm_min)):\(twoDigits(local.tm_sec))"
}

/// Seconds on the monotonic clock, which wall-clock changes do not move.
/// (Swift's ContinuousClock would do too, but links the concurrency
/// runtime: 1.3 MB more binary.)
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

// MARK: - Command line: the options of @name@.c, read with getopt_long(3) as it does

func usage(_ out: UnsafeMutablePointer<FILE>) {
    fputs("""
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [-D MS] [--load-only]
        Trace process exec and exit system-wide.
          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)
          -D, --min-duration MS   only report exits of processes that ran at
                                  least MS milliseconds (hides exec rows)
          --load-only             load the programs (verifier check) and exit
          -h, --help              show this help

        """, out)
}

/// The options, or an exit: status 2 after a bad command line, 0 after -h.
func parseOptions() -> Options {
    // getopt_long's table, as in @name@.c, ending in an all-zero row. Each
    // name is a strdup() copy that lives until exit: a Swift string passed
    // to C as a pointer lives only during that one call (here, option()).
    let longOptions = [
        option(name: strdup("verbose"), has_arg: no_argument, flag: nil, val: letter("v")),
        option(name: strdup("duration"), has_arg: required_argument, flag: nil, val: letter("d")),
        option(name: strdup("min-duration"), has_arg: required_argument, flag: nil, val: letter("D")),
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: letter("L")),
        option(name: strdup("help"), has_arg: no_argument, flag: nil, val: letter("h")),
        option(),
    ]
    var options = Options()
    // As C's `while ((opt = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:D:h", longOptions, nil), opt != -1 {
        switch opt {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = decimalNumber(optarg), duration >= 1 else {
                fail("invalid duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.duration = duration
        case letter("D"):
            guard let minimum = decimalNumber(optarg), minimum >= 0 else {
                fail("invalid minimum duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.minDurationMs = minimum
        case letter("L"):
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
        fail("unexpected argument '\(String(cString: CommandLine.unsafeArgv[Int(optind)]!))'")
        usage(stderr)
        exit(2)
    }
    return options
}

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

/// A C `char name[N]` field, which Swift sees as a tuple of N CChars, read
/// up to its NUL.
func cString<Chars>(_ chars: Chars) -> String {
    withUnsafeBytes(of: chars) { bytes in
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// `value` left-aligned in a column at least `width` wide, like printf's %-*d.
func column(_ value: some CustomStringConvertible, _ width: Int) -> String {
    let text = value.description
    return text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// strerror(3) of a positive errno value.
func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Prints "@name@: MESSAGE" on stderr.
func fail(_ message: String) {
    fputs("@name@: \(message)\n", stderr)
}
