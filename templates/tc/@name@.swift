// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// @name@.swift - user-space half of @name@, in Swift.
//
// Loads @name@.bpf.o through the skeleton (@name@.skel.h), makes sure the
// interface has a clsact qdisc (the "hook"), attaches the classifier to its
// ingress side, and prints one line per packet from the ring buffer. On
// exit it removes its filter, and the qdisc too if it created it. swbpf
// makes the skeleton, libbpf's API and @name@.h one Clang module, C@name@,
// so this file calls them directly, as @name@.c does.
//
// Usage: @name@ [-v] [-d SECONDS] [--load-only] IFNAME

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
    var duration = 0  // seconds; 0 = until Ctrl-C
    var interface: String?
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
        // The hook names the qdisc (ifindex + ingress); the opts name our
        // filter on it. prepareOptions() zeroes each struct and sets its
        // size, as LIBBPF_OPTS does in C.
        var hook = bpf_tc_hook()
        prepareOptions(&hook)
        hook.attach_point = BPF_TC_INGRESS
        var tcOptions = bpf_tc_opts()
        prepareOptions(&tcOptions)
        let interface = options.interface ?? ""
        if let name = options.interface {
            hook.ifindex = Int32(if_nametoindex(name))
            if hook.ifindex == 0 {
                fail("unknown interface '\(name)': \(errorText(errno))")
                return 1
            }
        }

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
        // Deferred blocks run in reverse order, so on every return below the
        // ring buffer is freed first, then the filter and the qdisc go, and
        // the skeleton is destroyed last, as in @name@.c's cleanup.
        defer { @name@_bpf__destroy(skel) }

        // Load: create the maps and run the verifier over the programs.
        var err = @name@_bpf__load(skel)
        if err != 0 {
            fail("failed to load BPF skeleton: \(errorText(-err))")
            return 1
        }

        if options.loadOnly {
            print("@name@: loaded \(programCount(skel.pointee.obj)) programs (verifier accepted)")
            return 0
        }

        // Create the clsact qdisc. EEXIST means the interface already has
        // one (another tool or a running @name@ made it): use it, and leave
        // it in place on exit.
        err = bpf_tc_hook_create(&hook)
        if err != 0 && err != -EEXIST {
            fail("failed to create clsact qdisc on \(interface): \(errorText(-err))")
            return 1
        }
        let hookCreated = err == 0
        defer {
            if hookCreated {
                // Both directions together name the whole clsact qdisc:
                // this deletes it, and any filter still on it.
                hook.attach_point = bpf_tc_attach_point(BPF_TC_INGRESS.rawValue | BPF_TC_EGRESS.rawValue)
                if bpf_tc_hook_destroy(&hook) != 0 {
                    fail("failed to remove clsact qdisc: \(errorText(errno))")
                }
            }
        }

        // Add our program as a direct-action filter. Handle and priority are
        // left 0 so the kernel picks free ones (several instances can share
        // the hook); libbpf writes the chosen values back into tcOptions.
        tcOptions.prog_fd = bpf_program__fd(skel.pointee.progs.log_ingress)
        err = bpf_tc_attach(&hook, &tcOptions)
        if err != 0 {
            fail("failed to attach tc program to \(interface): \(errorText(-err))")
            return 1
        }
        defer {
            // bpf_tc_detach() identifies the filter by handle and priority
            // only; the other fields must be zero.
            tcOptions.prog_fd = 0
            tcOptions.prog_id = 0
            tcOptions.flags = 0
            if bpf_tc_detach(&hook, &tcOptions) != 0 {
                let code = errno
                fail("failed to detach tc program: \(errorText(code))"
                     + (code == EINVAL || code == ENOENT ? " (qdisc or filter already removed)" : ""))
            }
        }

        // A closure that captures nothing is a plain C function pointer,
        // which is what libbpf's callback is.
        guard let rb = ring_buffer__new(bpf_map__fd(skel.pointee.maps.events),
                                        { _, data, size in handleEvent(data, size) }, nil, nil) else {
            fail("failed to create ring buffer: \(errorText(errno))")
            return 1
        }
        defer { ring_buffer__free(rb) }

        let deadline = options.duration > 0 ? monotonicSeconds() + Double(options.duration) : nil

        print("@name@: attached to \(interface) ingress (handle 0x\(String(tcOptions.handle, radix: 16)), priority \(tcOptions.priority))")
        print("\(column("TIME", 8)) \(column("PROTO", 7)) \(column("LEN", 6)) SOURCE -> DESTINATION")

        while !exiting.load(ordering: .relaxed) {
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

/// Called by ring_buffer__poll() for each record the classifier submitted;
/// loadUnaligned copies it into a value of the C struct's type.
func handleEvent(_ data: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    guard let data, size >= MemoryLayout<@name@_event>.size else {
        return 0
    }
    let e = data.loadUnaligned(as: @name@_event.self)
    let start = "\(clockTime()) \(column(protocolName(e), 7)) \(column(e.len, 6))"
    if e.ip_version != 0 {
        let source = endpoint(e.ip_version, e.saddr, e.sport)
        let destination = endpoint(e.ip_version, e.daddr, e.dport)
        print("\(start) \(source) -> \(destination)")
    } else {
        print("\(start) -")
    }
    return 0
}

func protocolName(_ e: @name@_event) -> String {
    if e.ip_version == 0 {
        if e.eth_proto == 0x0806 {
            return "ARP"
        }
        let hex = String(e.eth_proto, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex
    }
    switch e.ip_proto {
    case 1: return "ICMP"
    case 6: return "TCP"
    case 17: return "UDP"
    case 58: return "ICMPv6"
    case 132: return "SCTP"
    default: return "IP-\(e.ip_proto)"
    }
}

/// "addr" or "addr:port" for IPv4, "addr" or "[addr]:port" for IPv6. The
/// address is the C struct's `__u8 addr[16]`, a tuple in Swift, whose bytes
/// inet_ntop() reads in place.
func endpoint<Address>(_ version: UInt8, _ address: Address, _ port: UInt16) -> String {
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    withUnsafeBytes(of: address) { bytes in
        _ = inet_ntop(version == 4 ? AF_INET : AF_INET6, bytes.baseAddress, &text, socklen_t(text.count))
    }
    let ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if port == 0 {
        return ip
    }
    return version == 4 ? "\(ip):\(port)" : "[\(ip)]:\(port)"
}

/// The local wall-clock time, "09:42:09".
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
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [--load-only] IFNAME
        Log packets received on IFNAME from a tc ingress classifier.
          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)
          --load-only             load the program (verifier check) and exit;
                                  IFNAME is not needed
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
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: letter("L")),
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
            guard let duration = decimalNumber(optarg), duration > 0 else {
                fail("invalid duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.duration = duration
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
        options.interface = String(cString: CommandLine.unsafeArgv[Int(optind)]!)
        optind += 1
    }
    if optind < CommandLine.argc {
        fail("unexpected argument '\(String(cString: CommandLine.unsafeArgv[Int(optind)]!))'")
        usage(stderr)
        exit(2)
    }
    if options.interface == nil && !options.loadOnly {
        fail("missing interface name")
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
