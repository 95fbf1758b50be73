// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// @name@.swift - user-space half of @name@, in Swift.
//
// Loads @name@.bpf.o through the skeleton (@name@.skel.h) and attaches the
// task iterator, which for an iterator only creates a link: nothing runs
// yet. bpf_iter_create() then turns the link into a readable fd; every
// read(2) on it makes the kernel run the program over the next tasks and
// returns what it printed. The table is copied to stdout and the program
// exits. swbpf makes the skeleton and libbpf's API one Clang module,
// C@name@, so this file calls them directly, as @name@.c does.
//
// Usage: @name@ [-v] [-d SECONDS] [-t] [--load-only]

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
    var threads = false
    var duration = 0  // seconds; 0 = no limit
}

@main
enum App {
    static func main() {
        // First thing, so that a Ctrl-C during start-up already takes the
        // clean exit path. No SA_RESTART: a signal interrupts read(2).
        stopOnSignals([SIGINT, SIGTERM])
        exit(run(parseOptions()))
    }

    static func run(_ options: Options) -> Int32 {
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

        skel.pointee.rodata.pointee.show_threads = options.threads

        // Load: the verifier checks the program against the task iterator's
        // context type, found in the kernel's BTF.
        var err = @name@_bpf__load(skel)
        if err != 0 {
            fail("failed to load BPF skeleton: \(errorText(-err))")
            return 1
        }

        if options.loadOnly {
            print("@name@: loaded \(programCount(skel.pointee.obj)) programs (verifier accepted)")
            return 0
        }

        // For SEC("iter/...") the skeleton's attach creates an iterator link
        // (skel.pointee.links.list_tasks); it does not run the program.
        err = @name@_bpf__attach(skel)
        if err != 0 {
            fail("failed to attach BPF iterator: \(errorText(-err))")
            return 1
        }

        // Each bpf_iter_create() starts a new, independent walk over the
        // tasks; the fd reads like a file and returns 0 at the end.
        let iterFD = bpf_iter_create(bpf_link__fd(skel.pointee.links.list_tasks))
        if iterFD < 0 {
            fail("failed to create iterator: \(errorText(errno))")
            return 1
        }
        defer { close(iterFD) }

        let deadline = options.duration > 0 ? monotonicSeconds() + Double(options.duration) : nil

        print("\(column("PID", 7)) \(column("TID", 7)) \(column("PPID", 7)) \(column("UID", 7)) COMM")
        fflush(stdout)
        // The program's lines, copied as they come: bytes, not strings.
        var buffer = [UInt8](repeating: 0, count: 4096)
        var status: Int32 = 0
        while !exiting.load(ordering: .relaxed) && deadline.map({ monotonicSeconds() < $0 }) ?? true {
            let count = read(iterFD, &buffer, buffer.count)
            if count == 0 {
                break  // all tasks listed
            }
            if count < 0 {
                if errno == EINTR {
                    continue
                }
                fail("failed to read iterator: \(errorText(errno))")
                status = 1
                break
            }
            if fwrite(buffer, 1, count, stdout) != count {
                fail("failed to write output")
                status = 1
                break
            }
        }
        fflush(stdout)
        return status
    }
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
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [-t] [--load-only]
        List the processes on the system with a BPF task iterator.
          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  give up after SECONDS (the listing
                                  normally takes milliseconds)
          -t, --threads           one line per thread, not per process
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
        option(name: strdup("threads"), has_arg: no_argument, flag: nil, val: letter("t")),
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: letter("L")),
        option(name: strdup("help"), has_arg: no_argument, flag: nil, val: letter("h")),
        option(),
    ]
    var options = Options()
    // As C's `while ((opt = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:th", longOptions, nil), opt != -1 {
        switch opt {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = decimalNumber(optarg), duration > 0 else {
                fail("invalid duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.duration = duration
        case letter("t"):
            options.threads = true
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
