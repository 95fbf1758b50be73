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

// @preconcurrency: C globals (stdout, stderr) and libbpf's types predate
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

        guard let skel = @name@_bpf__open() else {
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

// MARK: - Command line: the options of @name@.c, read the way getopt_long(3) reads them

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
    let specs = [
        OptionSpec(short: "v", long: "verbose"),
        OptionSpec(short: "d", long: "duration", takesValue: true),
        OptionSpec(short: "t", long: "threads"),
        OptionSpec(short: nil, long: "load-only"),
        OptionSpec(short: "h", long: "help"),
    ]
    var options = Options()
    let operands = readCommandLine(specs) { spec, value in
        switch spec.long {
        case "verbose":
            options.verbose = true
        case "duration":
            guard let duration = value.flatMap({ Int($0) }), duration > 0 else {
                fail("invalid duration '\(value ?? "")'")
                exit(2)
            }
            options.duration = duration
        case "threads":
            options.threads = true
        case "load-only":
            options.loadOnly = true
        default:
            usage(stdout)
            exit(0)
        }
    }
    guard let operands else {
        usage(stderr)
        exit(2)
    }
    if let extra = operands.first {
        fail("unexpected argument '\(extra)'")
        usage(stderr)
        exit(2)
    }
    return options
}

/// One option: its letter (-v), its long name (--verbose), and whether it
/// takes a value.
struct OptionSpec {
    var short: Character?
    var long: String
    var takesValue = false
}

/// Reads CommandLine.arguments as getopt_long(3) reads them for @name@.c:
/// letters may be grouped (-vd 5, -d5), a long name may be shortened while
/// it stays unambiguous and takes its value after '=' or as the next
/// argument, "--" ends the options, and operands may come anywhere. Calls
/// `handle` for each option in order and returns the operands; prints
/// getopt's message and returns nil for an unknown option or a missing or
/// unwanted value.
func readCommandLine(_ specs: [OptionSpec], _ handle: (OptionSpec, String?) -> Void) -> [String]? {
    let arguments = CommandLine.arguments
    func complain(_ message: String) -> [String]? {
        fputs("\(arguments[0]): \(message)\n", stderr)
        return nil
    }
    var operands: [String] = []
    var index = 1
    while index < arguments.count {
        let argument = arguments[index]
        index += 1
        if argument == "--" {
            operands += arguments[index...]
            break
        }
        if argument.hasPrefix("--") {
            let body = argument.dropFirst(2)
            let name = body.prefix { $0 != "=" }
            let attached = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            let candidates = specs.filter { $0.long.hasPrefix(name) }
            guard let spec = specs.first(where: { $0.long == name }) ?? (candidates.count == 1 ? candidates[0] : nil) else {
                if candidates.isEmpty {
                    return complain("unrecognized option '\(argument)'")
                }
                return complain("option '\(argument)' is ambiguous; possibilities:" + candidates.map { " '--\($0.long)'" }.joined())
            }
            if !spec.takesValue {
                guard attached == nil else {
                    return complain("option '--\(spec.long)' doesn't allow an argument")
                }
                handle(spec, nil)
            } else if let attached {
                handle(spec, attached)
            } else if index < arguments.count {
                handle(spec, arguments[index])
                index += 1
            } else {
                return complain("option '--\(spec.long)' requires an argument")
            }
        } else if argument.hasPrefix("-") && argument != "-" {
            var letters = argument.dropFirst()
            while let letter = letters.popFirst() {
                guard let spec = specs.first(where: { $0.short == letter }) else {
                    return complain("invalid option -- '\(letter)'")
                }
                if !spec.takesValue {
                    handle(spec, nil)
                    continue
                }
                if !letters.isEmpty {
                    handle(spec, String(letters))
                } else if index < arguments.count {
                    handle(spec, arguments[index])
                    index += 1
                } else {
                    return complain("option requires an argument -- '\(letter)'")
                }
                break
            }
        } else {
            operands.append(argument)
        }
    }
    return operands
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
