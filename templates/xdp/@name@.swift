// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// @name@.swift - user-space half of @name@, in Swift.
//
// Loads @name@.bpf.o through the skeleton (@name@.skel.h), attaches the
// XDP program to the interface named on the command line through a BPF
// link, and once a second sums the per-CPU counters and prints the
// protocols that have seen packets. Closing the link detaches the program.
// swbpf makes the skeleton and libbpf's API one Clang module, C@name@, so
// this file calls them directly, as @name@.c does.
//
// Usage: @name@ [-v] [-d SECONDS] [--skb | --native] [--load-only] IFNAME

// @preconcurrency: C globals (stdout, stderr, optarg) and libbpf's types predate
// Swift's concurrency checking; this program uses them from one thread.
@preconcurrency import Glibc
@preconcurrency import C@name@
import Synchronization

let protocolCount: UInt32 = 256

/// From <linux/if_link.h>, which the C@name@ module does not include (C
/// includes it for these macros and enum values).
let xdpFlagsSKBMode: UInt32 = 1 << 1  // XDP_FLAGS_SKB_MODE
let xdpFlagsDriverMode: UInt32 = 1 << 2  // XDP_FLAGS_DRV_MODE
let xdpAttachModeNames: [UInt8: String] = [
    1: "native",     // XDP_ATTACHED_DRV
    2: "generic",    // XDP_ATTACHED_SKB
    3: "offloaded",  // XDP_ATTACHED_HW
    4: "multiple",   // XDP_ATTACHED_MULTI
]

/// Set by the signal handler, read by the main loop. An atomic may be
/// stored from a signal handler (it is lock-free); a plain variable would
/// be a data race, which the optimiser may turn into an endless loop.
let exiting = Atomic<Bool>(false)

struct Options {
    var verbose = false
    var loadOnly = false
    var duration = 0            // seconds; 0 = until Ctrl-C
    var xdpFlags: UInt32 = 0    // 0: the kernel picks native or generic
    var interface: String?
}

@main
enum App {
    static func main() {
        // First thing, so that a Ctrl-C during start-up already takes the
        // clean exit path. No SA_RESTART: a signal cuts usleep() short.
        stopOnSignals([SIGINT, SIGTERM])
        exit(run(parseOptions()))
    }

    static func run(_ options: Options) -> Int32 {
        var ifindex: UInt32 = 0
        if let interface = options.interface {
            ifindex = if_nametoindex(interface)
            if ifindex == 0 {
                fail("unknown interface '\(interface)': \(errorText(errno))")
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
        // Destroying the skeleton frees the program and map, on every
        // return below.
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

        let cpus = libbpf_num_possible_cpus()
        if cpus < 0 {
            fail("cannot count CPUs: \(errorText(-cpus))")
            return 1
        }

        // Attach through a BPF link (BPF_XDP, Linux 5.9+) rather than the
        // older netlink call: the link belongs to this process, so the
        // program is detached when the link fd is closed, also if the
        // process dies. The link also refuses to replace a program someone
        // else attached. The mode flags select generic or native XDP; 0 lets
        // the kernel use native mode when the driver implements it and
        // generic otherwise. prepareOptions() does what LIBBPF_OPTS() does in C.
        var linkOptions = bpf_link_create_opts()
        prepareOptions(&linkOptions)
        linkOptions.flags = options.xdpFlags
        let linkFD = bpf_link_create(bpf_program__fd(skel.pointee.progs.count_packets), Int32(ifindex), BPF_XDP, &linkOptions)
        if linkFD < 0 {
            let code = errno
            let hint = options.xdpFlags == xdpFlagsDriverMode && code == EOPNOTSUPP ? " (driver has no native XDP; try --skb)" : ""
            fail("failed to attach XDP program to \(options.interface ?? ""): \(errorText(code))\(hint)")
            return 1
        }
        // Closing the last fd of the link detaches the program from the
        // interface. (Deferred blocks run in reverse order: this one first,
        // then the skeleton's.)
        defer { close(linkFD) }

        // Ask the kernel which mode it picked (informational only).
        var query = bpf_xdp_query_opts()
        prepareOptions(&query)
        if bpf_xdp_query(Int32(ifindex), 0, &query) == 0 {
            print("@name@: attached to \(options.interface ?? "") (ifindex \(ifindex)) in \(xdpAttachModeNames[query.attach_mode] ?? "unknown") mode")
        }
        print("\(column("TIME", 8)) \(column("PROTO", 10)) PACKETS")

        var now = monotonicSeconds()
        let deadline = options.duration > 0 ? now + Double(options.duration) : nil
        var nextPrint = now + 1
        var lastPrint = 0.0
        // One value per possible CPU for each lookup, reused.
        var values = [UInt64](repeating: 0, count: Int(cpus))
        while !exiting.load(ordering: .relaxed) {
            usleep(100_000)  // returns early when a signal arrives
            now = monotonicSeconds()
            if now >= nextPrint {
                err = printCounts(skel.pointee.maps.counts, &values)
                if err != 0 {
                    break
                }
                lastPrint = now
                nextPrint += 1
            }
            if let deadline, now >= deadline {
                break
            }
        }
        // Final totals, unless a line was printed a moment ago.
        if err == 0 && monotonicSeconds() - lastPrint > 0.2 {
            err = printCounts(skel.pointee.maps.counts, &values)
        }
        if err != 0 {
            fail("failed to read counters: \(errorText(-err))")
            return 1
        }
        return 0
    }
}

/// Reads every protocol's counter and prints the non-zero totals. A lookup
/// in a per-CPU map returns one value per *possible* CPU, so `values` holds
/// libbpf_num_possible_cpus() of them (8 bytes each, as the map declares).
/// Returns 0 or a negative errno.
func printCounts(_ map: OpaquePointer?, _ values: inout [UInt64]) -> Int32 {
    let time = clockTime()
    for key in 0..<protocolCount {
        var key = key
        let err = values.withUnsafeMutableBytes { buffer in
            bpf_map__lookup_elem(map, &key, MemoryLayout<UInt32>.size, buffer.baseAddress, buffer.count, 0)
        }
        if err != 0 {
            return -errno
        }
        // &+: wrap around as C's unsigned sum does, never trap.
        let sum = values.reduce(0, &+)
        if sum != 0 {
            print("\(time) \(column(protocolName(key), 10)) \(sum)")
        }
    }
    return 0
}

func protocolName(_ number: UInt32) -> String {
    switch number {
    case 1: "ICMP"
    case 2: "IGMP"
    case 4: "IPIP"
    case 6: "TCP"
    case 17: "UDP"
    case 41: "IPv6"
    case 47: "GRE"
    case 50: "ESP"
    case 51: "AH"
    case 58: "ICMPv6"
    case 132: "SCTP"
    case 136: "UDPLite"
    default: "PROTO-\(number)"
    }
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
        Usage: \(CommandLine.arguments[0]) [-v] [-d SECONDS] [--skb | --native] [--load-only] IFNAME
        Count packets received on IFNAME per IP protocol with XDP.
          -v, --verbose           print libbpf's debug messages
          -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)
          -S, --skb               generic XDP (works on every interface)
          -N, --native            native (driver) XDP; fails if unsupported
                                  default: native if the driver supports it,
                                  generic otherwise (the kernel decides)
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
        option(name: strdup("skb"), has_arg: no_argument, flag: nil, val: letter("S")),
        option(name: strdup("native"), has_arg: no_argument, flag: nil, val: letter("N")),
        option(name: strdup("load-only"), has_arg: no_argument, flag: nil, val: letter("L")),
        option(name: strdup("help"), has_arg: no_argument, flag: nil, val: letter("h")),
        option(),
    ]
    var options = Options()
    // As C's `while ((opt = getopt_long(...)) != -1)`. getopt_long permutes
    // argv so that operands end up after the options, from argv[optind] on,
    // and prints its own message for an unknown option or a missing value
    // before it returns '?'.
    while case let opt = getopt_long(CommandLine.argc, CommandLine.unsafeArgv, "vd:SNh", longOptions, nil), opt != -1 {
        switch opt {
        case letter("v"):
            options.verbose = true
        case letter("d"):
            guard let duration = decimalNumber(optarg), duration > 0 else {
                fail("invalid duration '\(String(cString: optarg))'")
                exit(2)
            }
            options.duration = duration
        case letter("S"):
            options.xdpFlags = xdpFlagsSKBMode
        case letter("N"):
            options.xdpFlags = xdpFlagsDriverMode
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
