// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
//
// @name@.swift - user part of @name@, in Swift.
//
// `bpftool gen skeleton` turned the compiled @name@.bpf.o into @name@.skel.h:
// a struct @name@_bpf with one field per program, map and global-variable
// section, the object file embedded as bytes, and the functions
// @name@_bpf__open/load/attach/destroy that drive libbpf. swbpf writes a
// module map (.output/swift/@name@/) whose umbrella header includes libbpf's
// headers, <getopt.h> and the skeleton, so `import C@name@` brings all of
// them into Swift: the skeleton's static inline functions are called
// directly, no C shim.
//
// This file opens the skeleton, tells the kernel part which pid to watch,
// loads and attaches it, then writes to stderr once a second: each write(2)
// fires the tracepoint, and the kernel part logs a line to the trace buffer.

// Swift 6 checks that global C state is used safely; Glibc and the C module
// predate that checking (stderr and optarg are plain globals), hence
// @preconcurrency.
@preconcurrency import Glibc
@preconcurrency import C@name@

struct Options {
    var verbose = false
    var loadOnly = false
    /// Seconds; 0 = until SIGINT/SIGTERM.
    var duration: UInt32 = 0
}

func usage(_ program: String) -> String {
    """
    Usage: \(program) [-v] [-d SECONDS] [--load-only]
    Log a line to the kernel trace buffer each time this process calls write(2).

      -v, --verbose           print libbpf's debug messages
      -d, --duration SECONDS  exit after SECONDS (default: run until Ctrl-C)
          --load-only         load the programs (verifier check), then exit
      -h, --help              show this help

    """
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

/// Reads the command line with getopt_long(3), as @name@.c does: -v, -d N,
/// -dN, --duration N, --duration=N, --dur=N, --load-only, -h, grouped as
/// in -vd5. Returns nil (after saying why) for anything else.
func parseOptions() -> Options? {
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
    // As C's `while ((c = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let c = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:h", longOptions, nil), c != -1 {
        switch c {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let seconds = decimalNumber(optarg), seconds > 0, seconds <= Int32.max else {
                fputs("\(program): invalid duration: \(String(cString: optarg))\n", stderr)
                return nil
            }
            options.duration = UInt32(seconds)
        case loadOnlyOption:
            options.loadOnly = true
        case letter("h"):
            print(usage(program), terminator: "")
            exit(0)
        default:
            fputs(usage(program), stderr)
            return nil
        }
    }
    if optind < CommandLine.argc {
        fputs("\(program): unexpected argument: \(String(cString: CommandLine.unsafeArgv[Int(optind)]!))\n", stderr)
        return nil
    }
    return options
}

/// libbpf's error codes are negative errno values.
func errorText(_ code: Int32) -> String { String(cString: strerror(abs(code))) }

func run() -> Int32 {
    // Signals first, before anything slow: a Ctrl-C in the first milliseconds
    // must not be lost. Blocking SIGINT, SIGTERM and SIGALRM keeps each one
    // pending until the main loop takes it with sigtimedwait(), so no handler
    // and no global flag are needed. SIGALRM implements --duration and takes
    // the same clean exit path.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    for signal in [SIGINT, SIGTERM, SIGALRM] { sigaddset(&stopSignals, signal) }
    sigprocmask(SIG_BLOCK, &stopSignals, nil)

    guard let options = parseOptions() else { return 2 }

    // Line-buffer stdout so a pipe reader sees each line as it is printed.
    setvbuf(stdout, nil, _IOLBF, 0)

    // libbpf logs through this callback; keep it silent unless -v was given.
    // A C function pointer cannot capture anything, so the choice is made by
    // passing one of two closures. The va_list arrives as an optional
    // CVaListPointer, which vfprintf takes as it is.
    if options.verbose {
        libbpf_set_print { _, format, arguments in
            guard let arguments else { return 0 }
            return vfprintf(stderr, format, arguments)
        }
    } else {
        libbpf_set_print { _, _, _ in 0 }
    }

    // Open: parse the embedded BPF object; nothing is in the kernel yet.
    // A kernel without BTF of its own: use the one btf-for made (custom_btf.h).
    var openOptions = bpf_object_open_opts()
    openOptions.sz = MemoryLayout<bpf_object_open_opts>.size
    guard use_custom_btf("@name@", &openOptions) == 0 else { return 1 }
    guard let skeleton = @name@_bpf__open_opts(&openOptions) else {
        fputs("@name@: failed to open BPF skeleton: \(errorText(errno))\n", stderr)
        return 1
    }
    // Detaches and unloads everything, on every way out of this function.
    defer { @name@_bpf__destroy(skeleton) }

    // Between open and load, .rodata is still plain memory we can write.
    skeleton.pointee.rodata.pointee.target_pid = getpid()

    // Load: create the maps, relocate and verify every program.
    var err = @name@_bpf__load(skeleton)
    if err != 0 {
        fputs("@name@: failed to load BPF skeleton: \(errorText(err))\n", stderr)
        return 1
    }

    if options.loadOnly {
        // bpf_object__for_each_program is a C macro, which Swift does not
        // import; it is a loop over bpf_object__next_program.
        var programs = 0
        var program = bpf_object__next_program(skeleton.pointee.obj, nil)
        while let current = program {
            programs += 1
            program = bpf_object__next_program(skeleton.pointee.obj, current)
        }
        print("@name@: loaded \(programs) programs (verifier accepted)")
        return 0
    }

    // Attach: libbpf hooks each program up as its SEC() name says.
    err = @name@_bpf__attach(skeleton)
    if err != 0 {
        fputs("@name@: failed to attach BPF programs: \(errorText(err))\n", stderr)
        return 1
    }

    print("@name@: watching write(2) calls of pid \(getpid()); read /sys/kernel/tracing/trace_pipe")

    if options.duration > 0 { alarm(options.duration) }

    var oneSecond = timespec(tv_sec: 1, tv_nsec: 0)
    while true {
        // This write(2) is what the tracepoint program reports.
        fputs(".", stderr)
        // Sleep a second, or less if a stop signal arrives: then leave.
        if sigtimedwait(&stopSignals, nil, &oneSecond) >= 0 { break }
    }
    fputs("\n", stderr)
    return 0
}

// -parse-as-library (how swbpf compiles every Swift app, so that a NAME/
// folder of files works too) means no top-level code: @main marks the entry.
@main
enum Main {
    static func main() { exit(run()) }
}
