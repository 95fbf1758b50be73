// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// @name@.swift - user-space half of @name@, in Swift.
//
// This program is both the tracer and the traced: it contains a USDT probe
// (provider "@name@", name "tick"), attaches the BPF program from
// @name@.bpf.o to that probe in its own process, then fires the probe at a
// fixed interval. Each hit runs the BPF program, which passes the probe's
// arguments back through a ring buffer; they are printed here. swbpf makes
// the skeleton, libbpf's API and @name@.h one Clang module, C@name@, so this
// file calls them directly, as @name@.c does. The probe site itself is
// @name@_fire_tick() in @name@.h: a USDT probe is an inline asm statement,
// which only C can write.
//
// Usage: @name@ [-v] [-d SECONDS] [-i MS] [--load-only]

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
    var duration = 0       // seconds; 0 = until Ctrl-C
    var intervalMs = 500
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
        // Detaches and unloads everything, on every return below.
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

        // Attach to our own probe: pid restricts the uprobe to this process;
        // the binary is found through /proc/self/exe, whose ELF notes libbpf
        // parses to find the probe address and argument specs. The link is
        // stored in the skeleton so that __destroy() detaches it.
        skel.pointee.links.handle_tick = bpf_program__attach_usdt(skel.pointee.progs.handle_tick, getpid(),
                                                                   "/proc/self/exe", "@name@", "tick", nil)
        if skel.pointee.links.handle_tick == nil {
            fail("failed to attach to USDT probe @name@:tick: \(errorText(errno))")
            return 1
        }

        // A closure that captures nothing is a plain C function pointer,
        // which is what libbpf's callback is.
        guard let rb = ring_buffer__new(bpf_map__fd(skel.pointee.maps.events),
                                        { _, data, size in handleEvent(data, size) }, nil, nil) else {
            fail("failed to create ring buffer: \(errorText(errno))")
            return 1
        }
        defer { ring_buffer__free(rb) }

        print("@name@: firing USDT probe @name@:tick every \(options.intervalMs) ms in pid \(getpid())")
        print("\(column("TIME", 8)) \(column("PID", 7)) \(column("COMM", 16)) \(column("SEQ", 5)) "
              + "\(column("VALUE", 7)) \(column("ARGS", 4)) MESSAGE")

        let start = monotonicSeconds()
        let deadline = options.duration > 0 ? start + Double(options.duration) : nil
        let interval = Double(options.intervalMs) / 1000
        var nextFire = start
        var seq = 0
        while !exiting.load(ordering: .relaxed) {
            let now = monotonicSeconds()
            if let deadline, now >= deadline {
                break
            }
            if now >= nextFire {
                // Fire the probe: the uprobe traps into the kernel, the BPF
                // program runs, then this call returns. The message is
                // passed as a C string, valid for the call.
                seq += 1
                "tick \(seq)".withCString { message in
                    @name@_fire_tick(seq, Int((now - start) * 1000), message)
                }
                nextFire += interval
            }
            // Sleep in the ring buffer's epoll until the next tick (or the
            // deadline), printing records as they arrive.
            var wait = nextFire - monotonicSeconds()
            if let deadline, deadline - monotonicSeconds() < wait {
                wait = deadline - monotonicSeconds()
            }
            let err = ring_buffer__poll(rb, wait > 0 ? Int32(clamping: Int(wait * 1000) + 1) : 0)
            if err == -EINTR {
                break
            }
            if err < 0 {
                fail("error polling ring buffer: \(errorText(-err))")
                return 1
            }
        }
        // Print anything still queued.
        ring_buffer__consume(rb)
        return 0
    }
}

/// Called by ring_buffer__poll() for each record the BPF program sent;
/// loadUnaligned copies it into a value of the C struct's type.
func handleEvent(_ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    guard let data, size >= MemoryLayout<@name@_event>.size else {
        return 0
    }
    let e = data.loadUnaligned(as: @name@_event.self)
    print("\(clockTime()) \(column(e.pid, 7)) \(column(cString(e.comm), 16)) \(column(e.seq, 5)) "
          + "\(column(e.value, 7)) \(column(e.arg_cnt, 4)) \(cString(e.msg))")
    return 0
}

/// The local wall-clock time, "09:46:42".
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
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [-i MS] [--load-only]
        Fire the USDT probe @name@:tick in this process and trace it.
          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)
          -i, --interval MS       fire the probe every MS ms (default 500)
          --load-only             load the program (verifier check) and exit
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
        option(name: strdup("interval"), has_arg: required_argument, flag: nil, val: letter("i")),
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: letter("L")),
        option(name: strdup("help"), has_arg: no_argument, flag: nil, val: letter("h")),
        option(),
    ]
    var options = Options()
    // As C's `while ((opt = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:i:h", longOptions, nil), opt != -1 {
        switch opt {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = decimalNumber(optarg), duration >= 1 else {
                fail("invalid duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.duration = duration
        case letter("i"):
            guard let interval = decimalNumber(optarg), interval >= 1 else {
                fail("invalid interval '\(String(cString: optarg))'")
                exit(2)
            }
            options.intervalMs = interval
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
