// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
//
// @name@.swift - user part of @name@, in Swift.
//
// `bpftool gen skeleton` turned the compiled @name@.bpf.o into @name@.skel.h:
// a struct @name@_bpf with one field per program, map and global-variable
// section, the object file embedded as bytes, and the functions
// @name@_bpf__open/load/attach/destroy that drive libbpf. swbpf writes a
// module map (.output/swift/@name@/) whose umbrella header includes libbpf's
// headers and the skeleton, so `import C@name@` brings all of them into Swift:
// the skeleton's static inline functions are called directly, no C shim.
//
// This file opens the skeleton, tells the kernel part which pid to watch,
// loads and attaches it, then writes to stderr once a second: each write(2)
// fires the tracepoint, and the kernel part logs a line to the trace buffer.

// Swift 6 checks that global C state is used safely; Glibc and the C module
// predate that checking (stderr is a plain global), hence @preconcurrency.
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

/// What getopt_long would accept: -v, -d N, -dN, --duration N, --duration=N,
/// --load-only, -h. Returns nil (after saying why) for anything else.
func parseOptions(_ arguments: [String]) -> Options? {
    let program = arguments.first ?? "@name@"
    var options = Options()
    var rest = arguments.dropFirst()
    func fail(_ message: String) -> Options? {
        fputs("\(program): \(message)\n", stderr)
        fputs(usage(program), stderr)
        return nil
    }
    while let argument = rest.popFirst() {
        var durationText: String?
        switch argument {
        case "-v", "--verbose":
            options.verbose = true
        case "--load-only":
            options.loadOnly = true
        case "-h", "--help":
            print(usage(program), terminator: "")
            exit(0)
        case "-d", "--duration":
            guard let value = rest.popFirst() else { return fail("\(argument) needs a number of seconds") }
            durationText = value
        case _ where argument.hasPrefix("--duration="):
            durationText = String(argument.dropFirst("--duration=".count))
        case _ where argument.hasPrefix("-d") && !argument.hasPrefix("--"):
            durationText = String(argument.dropFirst(2))
        case _ where argument.hasPrefix("-"):
            return fail("unknown option: \(argument)")
        default:
            return fail("unexpected argument: \(argument)")
        }
        if let durationText {
            guard let seconds = UInt32(durationText), seconds > 0, seconds <= Int32.max else {
                fputs("\(program): invalid duration: \(durationText)\n", stderr)
                return nil
            }
            options.duration = seconds
        }
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

    guard let options = parseOptions(CommandLine.arguments) else { return 2 }

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
    guard let skeleton = @name@_bpf__open() else {
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
