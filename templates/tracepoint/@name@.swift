// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
//
// @name@.swift - user part of @name@, in Swift.
//
// The build compiles @name@.bpf.c and `bpftool gen skeleton` turns the
// object into @name@.skel.h: struct @name@_bpf with a field per program
// (skel.pointee.progs.handle_openat), map (skel.pointee.maps.events) and
// global section (skel.pointee.rodata), plus @name@_bpf__open/load/attach/
// destroy. swbpf makes that header, libbpf's API and @name@.h one Clang
// module, C@name@, so this file calls the skeleton's functions and libbpf
// directly, as @name@.c would, with no wrapper in between. It opens the
// skeleton, sets the pid filter, loads and attaches, then reads the events
// the kernel part writes to the perf buffer and prints one line per
// openat(2) call.

// @preconcurrency: C globals (stdout, stderr, optarg) and libbpf's types predate
// Swift's concurrency checking; this program uses them from one thread.
@preconcurrency import Glibc
@preconcurrency import C@name@
import Synchronization

let perfBufferPages = 64  // per CPU (256 KiB with 4 KiB pages): room for a burst of opens, such as a parallel build; a power of two
let pollTimeoutMilliseconds: Int32 = 100

/// Set by the signal handler, read by the main loop. An atomic may be
/// stored from a signal handler (it is lock-free); a plain variable would
/// be a data race, which the optimiser may turn into an endless loop.
let exiting = Atomic<Bool>(false)

struct Options {
    var verbose = false
    var loadOnly = false
    var duration: UInt32 = 0  // seconds; 0 = until SIGINT/SIGTERM
    var pid: pid_t = 0        // 0 = all processes
}

@main
enum App {
    static func main() {
        // First thing, so that a Ctrl-C during start-up already takes the
        // clean exit path. No SA_RESTART: a signal makes perf_buffer__poll()
        // return -EINTR at once. SIGALRM implements --duration.
        stopOnSignals([SIGINT, SIGTERM, SIGALRM])
        exit(run(parseOptions()))
    }

    static func run(_ options: Options) -> Int32 {
        // Line-buffer stdout so a pipe reader sees each event as it comes.
        setvbuf(stdout, nil, _IOLBF, 0)
        // libbpf logs through this callback; with none it stays silent.
        libbpf_set_print(options.verbose ? printToStderr : nil)

        // Open: parse the embedded BPF object; nothing is in the kernel yet.
        // A kernel without BTF of its own: use the one btf-for made (custom_btf.h).
        var openOptions = bpf_object_open_opts()
        openOptions.sz = MemoryLayout<bpf_object_open_opts>.size
        guard use_custom_btf("@name@", &openOptions) == 0 else { return 1 }
        guard let skel = @name@_bpf__open_opts(&openOptions) else {
            fail("failed to open BPF skeleton: \(errorText(errno))")
            return 1
        }
        // Runs on every return below; destroy detaches and unloads everything.
        defer { @name@_bpf__destroy(skel) }

        // Between open and load, .rodata is still plain memory we can write.
        skel.pointee.rodata.pointee.target_pid = options.pid

        // Load: create the maps, apply CO-RE relocations, verify the program.
        var err = @name@_bpf__load(skel)
        if err != 0 {
            fail("failed to load BPF skeleton: \(errorText(-err))")
            return 1
        }

        if options.loadOnly {
            print("@name@: loaded \(programCount(skel.pointee.obj)) programs (verifier accepted)")
            return 0
        }

        // Attach: libbpf reads "tp/syscalls/sys_enter_openat" from SEC().
        err = @name@_bpf__attach(skel)
        if err != 0 {
            fail("failed to attach BPF programs: \(errorText(-err))")
            return 1
        }

        // One perf ring per CPU, each perfBufferPages pages, mmap()ed and
        // stored in the events map so bpf_perf_event_output() can find it.
        // A closure that captures nothing is a plain C function pointer,
        // which is what libbpf's callbacks are.
        guard let pb = perf_buffer__new(bpf_map__fd(skel.pointee.maps.events), perfBufferPages,
                                        { _, _, data, size in handleEvent(data, size) },
                                        { _, cpu, count in fail("lost \(count) events on CPU \(cpu)") },
                                        nil, nil) else {
            fail("failed to create perf buffer: \(errorText(errno))")
            return 1
        }
        defer { perf_buffer__free(pb) }

        if options.duration > 0 {
            alarm(options.duration)
        }

        // The header doubles as the sign that tracing is live.
        print("\(column("PID", 7)) \(column("PPID", 7)) \(column("COMM", 16)) FILENAME")

        while !exiting.load(ordering: .relaxed) {
            // epoll over all CPU rings; runs handleEvent() per sample.
            err = perf_buffer__poll(pb, pollTimeoutMilliseconds)
            if err == -EINTR {
                break
            }
            if err < 0 {
                fail("error polling perf buffer: \(errorText(-err))")
                return 1
            }
        }
        return 0
    }
}

/// Called by perf_buffer__poll() for each sample, with the bytes the kernel
/// part passed to bpf_perf_event_output(). The kernel may pad a sample, so
/// the size is at least, not exactly, that of struct @name@_open_event. The
/// bytes sit in the mmap()ed ring with no alignment promise: loadUnaligned
/// copies them into a value of the C struct's type.
func handleEvent(_ data: UnsafeMutableRawPointer?, _ size: UInt32) {
    guard let data, Int(size) >= MemoryLayout<@name@_open_event>.size else {
        return
    }
    let e = data.loadUnaligned(as: @name@_open_event.self)
    print("\(column(e.pid, 7)) \(column(e.ppid, 7)) \(column(cString(e.comm), 16)) \(cString(e.filename))")
}

// MARK: - Command line: the options of @name@.c, read with getopt_long(3) as it does

func usage(_ out: UnsafeMutablePointer<FILE>) {
    fputs("""
        Usage: \(CommandLine.arguments[0]) [-v] [-p PID] [-d SECONDS] [--load-only]
        Print the pid, parent pid, command and filename of each openat(2) call.

          -p, --pid PID           trace only this process (default: all)
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
        option(name: strdup("pid"), has_arg: required_argument, flag: nil, val: letter("p")),
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
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "p:vd:h", longOptions, nil), opt != -1 {
        switch opt {
        case letter("p"):
            guard let pid = positiveNumber(optarg) else {
                fputs("\(program): invalid pid: \(String(cString: optarg))\n", stderr)
                exit(2)
            }
            options.pid = pid
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = positiveNumber(optarg) else {
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

/// parse_positive() of @name@.c: a decimal number from 1 to INT_MAX, or nil.
func positiveNumber(_ text: UnsafePointer<CChar>) -> Int32? {
    guard let value = decimalNumber(text), value > 0, value <= Int32.max else {
        return nil
    }
    return Int32(value)
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
