import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// `swbpf explain`: takes each step's exact command apart, group by group, and says what every
/// word does and why it is there. It reads the same `Step` values the executor runs, so it
/// explains the real command, including flags that come from the user's config and knobs.
public struct Explainer {
    public struct Item: Codable, Equatable {
        /// The argv words this item covers, as printed.
        public var words: [String]
        public var meaning: String

        package init(words: [String], meaning: String) {
            self.words = words
            self.meaning = meaning
        }
    }
    public struct Group: Codable, Equatable {
        public var title: String
        public var role: String
        public var origin: String
        public var summary: String
        public var items: [Item]

        package init(title: String, role: String, origin: String, summary: String, items: [Item]) {
            self.title = title
            self.role = role
            self.origin = origin
            self.summary = summary
            self.items = items
        }
    }
    public struct StepExplanation: Codable, Equatable {
        public var label: String
        public var output: String
        public var app: String?
        public var purpose: String
        public var command: String
        public var tool: Item
        public var groups: [Group]
        public var notes: [String]

        package init(label: String, output: String, app: String? = nil, purpose: String, command: String, tool: Item, groups: [Group], notes: [String]) {
            self.label = label
            self.output = output
            self.app = app
            self.purpose = purpose
            self.command = command
            self.tool = tool
            self.groups = groups
            self.notes = notes
        }
    }

    public let toolchain: Toolchain
    public let root: String

    public init(toolchain: Toolchain, root: String) {
        self.toolchain = toolchain
        self.root = root
    }

    public func explain(_ step: Step) -> StepExplanation {
        var groups: [Group] = []
        // Consecutive groups of one role are shown as one (bpftool's subcommand words, say).
        for group in step.groups {
            let items = group.arguments.isEmpty ? [] : items(for: group, in: step)
            if let last = groups.last, last.role == group.role.rawValue, last.origin == group.origin.description {
                groups[groups.count - 1].items += items
            } else {
                groups.append(Group(title: title(of: group.role, in: step), role: group.role.rawValue, origin: group.origin.description,
                                    summary: summary(of: group, in: step), items: items))
            }
        }
        if let redirect = step.standardOutput {
            groups.append(Group(title: "output", role: "redirect", origin: "swbpf",
                                summary: step.kind == .swiftSupport
                                    ? "printf prints the text; the shell redirect saves it. swbpf writes it under a temporary name and renames it into place."
                                    : "bpftool prints the result on standard output; the shell redirect saves it.",
                                items: [Item(words: [">", redirect], meaning: "write standard output to \(redirect)")]))
        }
        return StepExplanation(label: step.kind.label, output: step.primaryOutput, app: step.app, purpose: purpose(of: step),
                               command: step.shellCommand,
                               tool: Item(words: [step.tool.displayName] + step.tool.leadingArguments,
                                          meaning: "\(step.tool.role) \(step.tool.version) at \(step.tool.path)"),
                               groups: groups, notes: notes(for: step))
    }

    // MARK: Steps

    package func purpose(of step: Step) -> String {
        let app = step.app ?? ""
        switch step.kind {
        case .vmlinux:
            return "Write vmlinux.h: every type of the kernel, as C, from its BTF. Kernel parts include it instead of kernel headers; with CO-RE the field offsets in it are only a starting point that libbpf fixes up for the kernel the program finally runs on."
        case .precompiledHeader:
            return "Parse vmlinux.h once and save clang's parsed form of it (a precompiled header), for every kernel part that includes vmlinux.h first and is compiled with exactly these flags: parsing its megabytes of kernel types is most of a BPF compile's time. The objects come out the same as without it."
        case .bpfCompile:
            return "Compile the kernel part of \(app) to eBPF bytecode, an ELF object for the in-kernel virtual machine."
        case .bpfLink:
            return "Link the app's BPF object(s) statically into one, and strip what the kernel does not need."
        case .skeleton:
            return "Generate \(app)'s skeleton header: a C API made for this object, with the object itself embedded."
        case .compile:
            return step.app == nil
                ? "Compile a shared user-space helper once; it is linked into every app that uses it."
                : "Compile the user-space part of \(app): the program that loads, attaches and talks to the kernel part."
        case .link:
            return "Link the user-space binary \(step.primaryOutput) with libbpf."
        case .libbpf:
            return "Build \(toolchain.libbpf.summary(root: root)) with the tree's own Makefile: libbpf.a and the headers it installs (\(step.products.count - 1) of them, as bpf/*.h), in the output directory as libbpf-bootstrap's Makefile puts them, so that every kernel part and user part of the build includes these headers and every binary links this archive."
        case .bpftool:
            return "Build the bootstrap bpftool from \(toolchain.bpftoolSource?.display ?? "its source tree") with the tree's own Makefile: the bpftool that dumps vmlinux.h and runs gen object and gen skeleton in this build."
        case .alias:
            return "Give \(app)'s binary another name: a symbolic link beside it, as libbpf-tools' Makefile makes its aliases."
        case .kernelLoader:
            return "Build swbpf's kernel loader, which 'swbpf verify' and 'swbpf doctor' run to hand programs to the kernel. It links the libbpf the apps link, so the verifier sees exactly what an app's skeleton would load."
        case .swiftSupport:
            return swiftSupportPurpose(step)
        case .swiftCompile:
            return "Compile the Swift user-space part of \(app) as one module into one object. 'import C\(app)' gives it the skeleton's functions (\(App.skeletonName(of: app))__open(), __load(), __attach(), __destroy()) and libbpf's API, with no C shim."
        case .minCoreBTF:
            return "Keep, of the whole BTF of the kernel \(FileSystem.split(step.primaryOutput).base.dropLast(4)), only the types and fields \(app)'s CO-RE relocations name: a small BTF that \(app)'s user part hands libbpf (btf_custom_path) on that kernel, which has no /sys/kernel/btf/vmlinux of its own."
        case .swiftLink:
            return "Link the Swift binary \(step.primaryOutput) with libbpf" + (step.arguments.contains(.flag("-static-stdlib")) ? " and Swift's standard library, so it runs on machines without a Swift toolchain." : ".")
        }
    }

    package func title(of role: ArgumentRole, in step: Step) -> String {
        switch role {
        case .subcommand: return "bpftool command"
        case .baseOptions where step.kind == .swiftSupport: return "format"
        case .baseOptions where step.kind == .swiftLink: return "standard library"
        case .baseOptions: return step.kind == .bpfCompile || step.kind == .precompiledHeader ? "base options" : "compiler options"
        case .userFlags: return "your flags"
        case .includePaths: return "include paths (-I)"
        case .systemIncludes: return "system include paths (-idirafter)"
        case .pathMapping: return "checkout path"
        case .precompiledHeader: return "precompiled vmlinux.h"
        case .header: return "header"
        case .source: return "input"
        case .output: return "output"
        case .objects: return step.kind.linksBinary ? "objects" : "input"
        case .kernelBTF: return "kernel BTF"
        case .fileContents: return "file contents"
        case .swiftModule: return step.kind == .swiftLink ? "module name" : "module and C interop"
        case .dependencies: return "dependencies"
        case .libbpf: return "libbpf"
        case .linkerFlags: return "linker flags"
        case .libraries: return "your libraries"
        case .systemLibraries: return "libbpf's dependencies"
        case .makeDirectory: return "source tree"
        case .makeVariables: return "make variables"
        case .makeTarget: return "make target"
        case .linkTarget: return "link target"
        }
    }

    package func summary(of group: ArgumentGroup, in step: Step) -> String {
        switch (group.role, step.kind) {
        case (.baseOptions, .swiftCompile) where group.origin == .swbpf && group.arguments.first == .flag("-c"):
            return "One object from every source at once (whole-module), sources read as a library with an @main entry point, in the Swift 6 language mode."
        case (.baseOptions, .swiftCompile), (.baseOptions, .swiftLink):
            return group.origin == .swbpf ? "The default optimised build for a binary users run as root on other machines; SWIFT_DEBUG=1 or swbpf.toml swift-debug = true gives a debug build."
                : "Chosen by \(group.origin)."
        case (.baseOptions, .swiftSupport):
            return "printf's format, which it repeats for each word that follows: the word as it is (no escape in it is interpreted), then a newline."
        case (.fileContents, _):
            return "The file's lines, one word each: the text is part of the command, so the step runs again exactly when it changes."
        case (.swiftModule, .swiftLink):
            return "swiftc names the file where it gathers the libraries the object asks for after the module; without a name, a temporary output name makes it main.autolink for every app."
        case (.swiftModule, _):
            return "Name the Swift module, where clang's parsed headers are kept between builds, and where the module map and the headers it includes are found."
        case (.dependencies, _):
            return "swiftc writes a make-style depfile (the headers and modules it read) where the output-file map says; swbpf reads it to know what to watch."
        case (.source, .swiftCompile):
            return "The app's Swift sources, compiled together as one module."
        case (.objects, .swiftLink):
            return "The app's Swift object and the C helpers it uses. The BPF object is inside the Swift object: the skeleton embeds it."
        case (.linkerFlags, .swiftLink):
            return "From \(group.origin), each handed to the clang driver swiftc links with (-Xclang-linker), as cc would take it."
        case (.baseOptions, .bpfCompile), (.baseOptions, .precompiledHeader):
            return "What makes this a CO-RE BPF compile: debug info and BTF, optimisation, the BPF target, and the architecture macro."
        case (.baseOptions, _):
            return group.origin == .knob(.cflags) ? "From your CFLAGS, which replace the default -g -Wall."
                : "The Makefile's default CFLAGS; set CFLAGS to replace them."
        case (.userFlags, _):
            return "Passed through unchanged from \(group.origin)."
        case (.includePaths, .bpfCompile), (.includePaths, .precompiledHeader):
            return "Searched first, in this order: the output directory (the generated vmlinux.h), then libbpf's and your own header directories."
        case (.includePaths, _):
            return "The output directory comes first because the skeleton header is generated there."
        case (.systemIncludes, _) where !toolchain.target.isHost:
            return "clang's default system include directories (from 'clang -v -E -'), appended with -idirafter, with the host's multiarch directory replaced by \(targetName)'s: kernel parts include <asm/types.h>, whose layout is the target's\(targetOrigin). -idirafter adds them after every -I directory, so nothing the project, libbpf or vmlinux.h provides can be shadowed."
        case (.systemIncludes, _):
            return "clang's default system include directories for the host (from 'clang -v -E -'), appended with -idirafter. With -target bpf clang knows no host triple, so it does not search the host's multiarch directory (/usr/include/<triple>, where asm/types.h lives), yet linux/*.h headers need it. -idirafter adds these directories after every -I directory and after the target's own, so nothing the project, libbpf or vmlinux.h provides can be shadowed by a host header; with -I, host headers would be searched first and could replace them."
        case (.source, .kernelLoader):
            return "The loader's C source, which swbpf carries and writes into its own directory; compiled and linked in one command."
        case (.pathMapping, _):
            return "Written as '.' wherever the compiler would record the project's absolute path (debug info, BTF, __FILE__), so the same sources give byte-identical products in any directory, and the shared cache can give one checkout's outputs to another."
        case (.precompiledHeader, _):
            return "Use the precompiled vmlinux.h instead of parsing it: the source's '#include \"vmlinux.h\"' then finds its include guard already defined. Only for sources whose first directive is that include; compile_commands.json leaves these words out, as the PCH is swbpf's own intermediate."
        case (.header, _):
            return "Compile the header itself into a precompiled header."
        case (.source, _):
            return "The source file, compiled (-c) into an object without linking."
        case (.output, .swiftCompile):
            return "Where the object goes. swiftc records the object's file name in it, so swbpf has it written under its own name in a fresh temporary directory beside it, then moves it into place: an interrupted build never leaves a truncated object. (Its 16-byte .swift_modhash, an MD5 of the module and the path written to, is the one part that differs from the printed command's.)"
        case (.output, _):
            return "Where the result goes. swbpf writes it under a temporary name and renames it into place, so an interrupted build never leaves a truncated file that looks finished."
        case (.objects, .link):
            return "The app's user-space objects and the shared helpers it uses. The BPF object is not among them: it is already inside the skeleton header compiled into \(step.app ?? "the app").o."
        case (.objects, .minCoreBTF):
            return "The app's BPF objects: bpftool reads their CO-RE relocation records to know which kernel types they use."
        case (.objects, _):
            return "What bpftool reads."
        case (.kernelBTF, _):
            return "The kernel's whole BTF (from \(group.origin)), extracted once into the shared cache from the kernel it names, as 'swbpf verify --kernel' does; the step runs again when its digest changes."
        case (.libbpf, _):
            return "libbpf, linked statically (from \(group.origin)): the skeleton's open/load/attach calls are implemented here."
        case (.linkerFlags, _):
            return "From \(group.origin)."
        case (.libraries, _):
            return "Extra libraries from \(group.origin)."
        case (.systemLibraries, _) where toolchain.target.selection.staticLink:
            return "libbpf.a is a static archive, so the libraries it needs must be named too; for a static link they are what libelf needs in turn (from \(toolchain.target.librariesOrigin)), each a static archive."
        case (.systemLibraries, _):
            return "libbpf.a is a static archive, so the libraries it needs must be named too: libelf to parse the embedded ELF object, zlib to read compressed kernel configs and BTF."
        case (.subcommand, .vmlinux):
            return "bpftool reads BTF, the kernel's compact type information, and prints it."
        case (.subcommand, _):
            return "The bpftool subcommand."
        case (.makeDirectory, _):
            return "make runs the Makefile of the tree's src/ directory, the tree's own build, which stays right whatever the tree's version. Every file of the tree (but .git, its documentation, CI and fuzzing files, and what an in-tree build leaves there) is an input of this step, so a submodule bump rebuilds and a touch does not."
        case (.makeVariables, .libbpf):
            return "The variables libbpf-bootstrap's Makefile passes: a static library only, objects kept in the output directory (so a rebuild compiles only what changed), and an install straight into the output directory."
        case (.makeVariables, _):
            return "The variables libbpf-bootstrap's Makefile passes: a bpftool for the machine that builds, with its objects in the output directory."
        case (.makeTarget, _):
            return "What make is asked to make."
        case (.linkTarget, _):
            return "The name the link holds: the binary beside it, so the link stays right wherever the directory moves."
        }
    }

    // MARK: Words

    package func items(for group: ArgumentGroup, in step: Step) -> [Item] {
        let words = group.arguments.map { $0.resolved(temporaryOutputs: false) }
        switch group.role {
        case .systemIncludes:
            return stride(from: 0, to: words.count, by: 2).map { Item(words: [words[$0], words[$0 + 1]], meaning: systemDirectory(words[$0 + 1])) }
        case .swiftModule, .dependencies, .fileContents:
            return swiftItems(words, group: group, step: step)
        case .baseOptions where step.kind == .swiftCompile || step.kind == .swiftSupport || step.kind == .swiftLink,
             .pathMapping where step.kind == .swiftCompile:
            return swiftItems(words, group: group, step: step)
        case .source where step.kind == .swiftCompile:
            return words.map { Item(words: [$0], meaning: "a source of module \(step.app ?? "")") }
        case .source where step.kind == .kernelLoader:
            return [Item(words: words, meaning: "compile and link \(words.last ?? "")")]
        case .source:
            return [Item(words: words, meaning: "compile \(words.last ?? "") to an object file, without linking")]
        case .output where words.first == "-o":
            return [Item(words: words, meaning: "write the result to \(words.last ?? "")")]
        case .subcommand:
            return subcommandItems(words)
        default:
            var items: [Item] = []
            var index = 0
            while index < words.count {
                // A word of swbpf's says what it means; consecutive words with one meaning are one item.
                guard case .meant(_, let meaning) = group.arguments[index] else {
                    items.append(Item(words: [words[index]], meaning: meaning(of: words[index], group: group, step: step)))
                    index += 1
                    continue
                }
                var end = index + 1
                while end < words.count, case .meant(_, meaning) = group.arguments[end] { end += 1 }
                items.append(Item(words: Array(words[index..<end]), meaning: text(of: meaning, words: Array(words[index..<end]))))
                index = end
            }
            return items
        }
    }

    /// What a word of swbpf's does, by the meaning its planning function gave it.
    package func text(of meaning: WordMeaning, words: [String]) -> String {
        switch meaning {
        case .bpfDebugInfo:
            return "emit debug info, which for BPF includes BTF (.BTF and .BTF.ext): libbpf needs it for CO-RE relocations (BPF_CORE_READ), BTF-defined maps and the verifier's source-line messages"
        case .bpfOptimisation:
            return "optimise: unoptimised BPF code spills and reloads registers in ways the verifier cannot follow, so BPF is always built optimised"
        case .bpfTarget where words.last == "bpf":
            return "generate eBPF bytecode (little-endian on this host) instead of machine code for the host CPU"
        case .bpfTarget:
            return "generate eBPF bytecode in the byte order of \(targetName) (\(words.last?.hasSuffix("el") == true ? "little" : "big")-endian), whatever this host's is: the kernel loads BPF in its own byte order\(targetOrigin)"
        case .targetArchitectureMacro:
            let arch = words.joined().dropFirst("-D__TARGET_ARCH_".count)
            let chosen = toolchain.target.selection.origin == .host ? " (from uname -m, or ARCH)" : targetOrigin
            return "tell bpf/bpf_tracing.h the target is \(arch), so PT_REGS_PARM1() and the BPF_KPROBE macros read arguments from the right registers of struct pt_regs\(chosen)"
        case .includePrecompiledHeader: return "load the precompiled header that follows before the source"
        case .toClangProper: return "pass the next word to clang's compiler proper"
        case .noPrecompiledHeaderTimestamp:
            return "record no modification time of vmlinux.h in the PCH, so it stays valid when vmlinux.h is rewritten with the same bytes (swbpf rebuilds it whenever they change)"
        case .inputLanguage: return "the next word says what the input is"
        case .cHeader: return "a C header, so the output is a precompiled header rather than an object"
        case .checkoutPathMapping: return "replace the project directory with '.' in every path the compiler records"
        }
    }

    package func subcommandItems(_ words: [String]) -> [Item] {
        switch words {
        case ["btf", "dump", "file"]:
            return [Item(words: words, meaning: "dump the BTF type information in the file that follows")]
        case ["format", "c"]:
            return [Item(words: words, meaning: "print it as C declarations (a header) rather than as a raw type listing")]
        case ["gen", "object"]:
            return [Item(words: words, meaning: "link BPF objects like a static linker: merge sections, maps and BTF, resolve extern references between files, and drop DWARF debug info (BTF, which CO-RE needs, stays)")]
        case ["gen", "skeleton"]:
            return [Item(words: words, meaning: "emit a C header for this one object; it is named after the file: NAME.bpf.o gives struct NAME_bpf")]
        case _ where words.count == 2 && words[0] == "name":
            return [Item(words: words, meaning: "name the skeleton struct \(words[1]) (the name a Makefile's \(words[1]).o gives it) rather than after this file")]
        default:
            return words.map { Item(words: [$0], meaning: "bpftool subcommand word") }
        }
    }

    package func meaning(of word: String, group: ArgumentGroup, step: Step) -> String {
        let origin = group.origin == .swbpf ? "" : " (from \(group.origin))"
        switch word {
        case "-g": return "emit debug info for gdb and for readable stack traces" + origin
        case "-static":
            return "link a fully static binary: libc, libbpf, libelf and zlib inside it, so it runs on a machine with none of them installed" + origin
        case "-Wall": return "enable the common warnings" + origin
        case "-lelf": return "libelf, which libbpf uses to read the ELF object embedded in the skeleton"
        case "-lz": return "zlib, which libbpf uses for compressed data such as /proc/config.gz"
        default: break
        }
        if word.hasPrefix("-fuse-ld=") {
            return "link with \(word.dropFirst("-fuse-ld=".count)) (ld.\(word.dropFirst("-fuse-ld=".count))) instead of cc's default GNU ld: gold and lld link faster; the binary is laid out differently and behaves the same" + origin
        }
        if word.hasSuffix(".pch") { return step.kind == .precompiledHeader ? "write the precompiled header to \(word)" : "the precompiled vmlinux.h, \(word)" }
        if step.kind == .precompiledHeader, group.role == .header { return "the header to precompile: \(word)" }
        switch group.role {
        case .includePaths:
            let directory = String(word.dropFirst(2))
            if let uapi = toolchain.libbpf.uapiIncludeDirectory, directory == uapi {
                return "libbpf's copy of the kernel's UAPI headers (linux/bpf.h, linux/btf.h), as new as the libbpf they come with, searched before the system's, as libbpf-bootstrap's Makefile does"
            }
            if toolchain.libbpf.sourceBuild != nil, let libbpf = toolchain.libbpf.includeDirectory,
               directory == FileSystem.display(libbpf, relativeTo: root) {
                return "the output directory: libbpf's headers as the LIBBPF step installs them (bpf/*.h, from \(toolchain.libbpf.origin)), found before any system copy, and the generated " + (step.kind == .bpfCompile ? "vmlinux.h" : "skeleton header")
            }
            if let libbpf = toolchain.libbpf.includeDirectory, directory == FileSystem.display(libbpf, relativeTo: root) {
                let headers = step.kind == .bpfCompile ? "bpf/bpf_helpers.h, bpf/bpf_tracing.h, bpf/bpf_core_read.h" : "bpf/libbpf.h"
                return "libbpf's headers (\(headers)), from \(toolchain.libbpf.origin)"
            }
            if let output = step.outputs.first.map({ FileSystem.split($0).directory }), directory == (output.isEmpty ? "." : output) {
                return step.kind == .bpfCompile
                    ? "the output directory, where vmlinux.h is generated, so '#include \"vmlinux.h\"' and '<vmlinux.h>' both find it"
                    : "the output directory, where the skeleton header is generated, so '#include \"\(step.app ?? "NAME").skel.h\"' finds it"
            }
            if case .header(_, let origin) = toolchain.vmlinux, directory == toolchain.vmlinux.includeDirectory(root: root) {
                if case .vendored = origin {
                    return "the vendored vmlinux.h for \(toolchain.arch) (the kernel's types as C), found where libbpf-bootstrap keeps it; kernel parts only"
                }
                return "the directory of your vmlinux.h (from \(origin))"
            }
            return "your include directory (from swbpf.toml include)"
        case .objects:
            if step.kind.linksBinary { return word.hasSuffix(".o") ? "user-space object \(word)" : "input \(word)" }
            if step.kind == .vmlinux { return "the BTF to dump: \(word == "/sys/kernel/btf/vmlinux" ? "the running kernel's own, published by CONFIG_DEBUG_INFO_BTF" : "your file")" }
            return "read \(word)"
        case .kernelBTF:
            return "the kernel's whole BTF, read \(word)"
        case .libbpf:
            return "the static libbpf archive: \(toolchain.libbpf.summary(root: root)) (found through \(toolchain.libbpf.origin))"
        case .makeDirectory:
            return word == "-C" ? "change to the directory that follows before reading the Makefile" : "the tree's src/ directory, whose Makefile runs"
        case .makeVariables:
            return makeVariableMeaning(word, step: step)
        case .makeTarget:
            return word == "install"
                ? "build libbpf.a and install it, its headers and its pkg-config file under DESTDIR"
                : "the bootstrap bpftool: built against the tree's own libbpf, without the BPF skeletons a full bpftool embeds, so it needs nothing but a C compiler"
        case .linkTarget:
            return "the name the link points to: \(word), beside it"
        case .output where step.kind == .alias:
            return "the link to make"
        case .output:
            return "write the linked object to \(word)"
        default:
            return flagMeaning(word) + origin
        }
    }

    /// What one `NAME=VALUE` word of a make command does.
    package func makeVariableMeaning(_ word: String, step: Step) -> String {
        let name = word.prefix { $0 != "=" }
        let value = word.dropFirst(name.count + 1)
        switch name {
        case "BUILD_STATIC_ONLY": return "build libbpf.a only, not the shared library"
        case "OBJDIR": return "keep the objects in \(value), so the next build recompiles only the sources that changed"
        case "DESTDIR":
            return "install under \(value); while the step runs swbpf points it at a fresh temporary directory and then moves each product into place, so an interrupted build never leaves a half-installed libbpf"
        case "INCLUDEDIR": return "empty, so the headers go to DESTDIR/bpf/, where '#include <bpf/libbpf.h>' finds them through -I\(step.stagingDirectory ?? "DESTDIR")"
        case "LIBDIR": return "empty, so libbpf.a goes to DESTDIR itself"
        case "UAPIDIR": return "empty: the UAPI headers are not installed (compiles read them from the tree's include/uapi)"
        case "ARCH": return "empty, overriding an ARCH in the environment: ARCH names the BPF target, but bpftool runs on the build machine"
        case "CROSS_COMPILE": return "empty: bpftool is built with the host's compiler even in a cross build"
        case "CC" where !toolchain.target.isHost && settingsCompilerIsTarget(value):
            return "the compiler libbpf is built with: the one for \(targetName) (\(toolchain.target.compilerOrigin)), so libbpf.a is built for the binaries' machine"
        case "CC": return "the compiler libbpf is built with: your CC, as for the apps"
        case "OUTPUT":
            return "where the Makefile writes its objects and the bootstrap bpftool (OUTPUTbootstrap/bpftool); while the step runs swbpf points it at a fresh temporary directory and then moves the program into place"
        case "EXTRA_CFLAGS":
            return "added to every compile of the tree: the tree's and the project's directories are written as '\(step.kind == .libbpf ? "libbpf" : "bpftool")' and '.' in the debug info, so the product is the same in any checkout and the shared cache gives it to another checkout of the same tree"
        default: return "sets the Makefile variable \(name)"
        }
    }

    package func settingsCompilerIsTarget(_ value: Substring) -> Bool {
        value == ([toolchain.cc.displayName] + toolchain.cc.leadingArguments).joined(separator: " ")
    }

    /// A plain-words reading of a user flag, or a neutral one when it is not a common form.
    package func flagMeaning(_ word: String) -> String {
        if word.hasPrefix("-D") { return "define the macro \(word.dropFirst(2))" }
        if word.hasPrefix("-U") { return "undefine the macro \(word.dropFirst(2))" }
        if word.hasPrefix("-O") { return "optimisation level \(word.dropFirst(2))" }
        if word.hasPrefix("-W") { return word.hasPrefix("-Wl,") ? "pass \(word.dropFirst(4)) to the linker" : "warning option \(word)" }
        if word.hasPrefix("-I") { return "add include directory \(word.dropFirst(2))" }
        if word.hasPrefix("-L") { return "search \(word.dropFirst(2)) for libraries" }
        if word.hasPrefix("-l") { return "link the library \(word.dropFirst(2))" }
        if word.hasPrefix("-m") { return "target option \(word)" }
        if word.hasPrefix("-f") { return "code generation option \(word)" }
        if word.hasPrefix("-std=") { return "language standard \(word.dropFirst(5))" }
        return "passed to the tool as is"
    }

    /// The target as explanations name it, and what chose it.
    package var targetName: String { toolchain.target.selection.arch.map { "\($0.name) (\($0.triple))" } ?? toolchain.arch }
    package var targetOrigin: String {
        switch toolchain.target.selection.origin {
        case .host: return ""
        case .knob: return " (from ARCH=\(toolchain.arch))"
        case .option: return " (from --arch \(toolchain.arch))"
        case .config(let line): return " (from swbpf.toml arch, line \(line))"
        }
    }

    package func systemDirectory(_ directory: String) -> String {
        if directory.contains("/clang/") || directory.hasSuffix("/include") && directory.contains("llvm") {
            return "clang's own builtin headers (stddef.h, stdint.h, stdarg.h)"
        }
        if let arch = toolchain.target.selection.arch, !toolchain.target.isHost, directory.contains(arch.triple) {
            return "\(arch.name)'s multiarch headers (asm/types.h and friends from linux-libc-dev:\(arch.debian)), in place of the host's, so kernel parts see the target's types\(targetOrigin)"
        }
        if directory.hasSuffix("-linux-gnu") || directory.contains("-linux-") {
            return "the host's multiarch headers (asm/types.h and friends from linux-libc-dev), which the bpf target alone would not search"
        }
        if directory == "/usr/local/include" { return "locally installed headers" }
        if directory == "/usr/include" { return "the system headers: linux/*.h UAPI headers and, with Debian's libbpf-dev, bpf/*.h" }
        return "a default system include directory of clang"
    }

    // MARK: Notes

    package func notes(for step: Step) -> [String] {
        var notes: [String] = []
        if step.depfile != nil && !step.depfileNamedByCommand {
            notes.append("swbpf also passes -MD -MF to learn which headers the compile read; they are left out of the printed command because they only feed swbpf's build state.")
        }
        if step.kind == .compile, !toolchain.target.isHost {
            notes.append("Compiled for \(targetName)\(targetOrigin) by \(step.tool.displayName) (\(toolchain.target.compilerOrigin)).")
        }
        switch step.kind {
        case .skeleton:
            // bpftool names the struct after the object (PART.bpf.o gives PART_bpf), or as `name X` says.
            let words = step.displayCommand
            let object = FileSystem.split(step.inputs.first ?? "NAME.bpf.o").base
            let name = words.firstIndex(of: "name").flatMap { words.indices.contains($0 + 1) ? words[$0 + 1] : nil }
                ?? App.skeletonName(of: object.hasSuffix(".bpf.o") ? String(object.dropLast(".bpf.o".count)) : object)
            notes.append("\(step.primaryOutput) gives struct \(name) and \(name)__open(), __open_and_load(), __load(), __attach(), __detach() and __destroy(); the object's bytes are embedded (\(name)__elf_bytes()), so the binary needs no .bpf.o file at run time.")
            let contents = skeletonContents(step.primaryOutput)
            if !contents.maps.isEmpty { notes.append("typed map handles: " + contents.maps.map { "skel->maps.\($0)" }.joined(separator: ", ")) }
            if !contents.programs.isEmpty {
                notes.append("programs and their links: " + contents.programs.map { "skel->progs.\($0) / skel->links.\($0)" }.joined(separator: ", "))
            }
            if !contents.globals.isEmpty {
                notes.append("global variables, set before load (rodata) or read and written at run time: " + contents.globals.map { "skel->\($0)" }.joined(separator: ", "))
            }
        case .link:
            if case .elf(let identity)? = step.postcondition {
                if toolchain.target.selection.isHost {
                    notes.append("The binary is checked after the link, and after a restore from the cache, to be an ELF executable for \(identity): anything else fails the step and is removed.")
                } else {
                    notes.append("Built for \(targetName)\(targetOrigin) by \(step.tool.displayName) (\(toolchain.target.compilerOrigin)); the binary goes to \(step.primaryOutput), beside no host binary, and is checked after the link to be an ELF executable for \(identity): anything else fails the step and is removed.")
                }
            }
            notes.append("The .bpf.o is not on this line: the skeleton embeds it in \(step.app ?? "the app").o. At run time the skeleton's load call hands those bytes to libbpf, which applies the CO-RE relocations for the running kernel and loads each program through the bpf() system call; the kernel verifier checks every program before it can run.")
        case .bpfLink:
            notes.append("gen object keeps the BTF and its CO-RE relocation records, so the object stays portable across kernels.")
        case .libbpf, .bpftool:
            notes.append("make prints its progress (CC, AR, INSTALL lines); swbpf shows it with -v or when the step fails.")
            notes.append("make runs without CFLAGS, LDFLAGS, EXTRA_CFLAGS, CROSS_COMPILE, MAKEFLAGS and the other variables its Makefiles read from the environment: the tree is built with its own flags, whatever swbpf's knobs are, and its command line says all that is given to it.")
        case .kernelLoader:
            notes.append("Built only when a command needs it ('swbpf verify'); a plain build neither makes nor removes it.")
        case .precompiledHeader:
            notes.append("It embeds the absolute paths of the headers in it, so it is the one product that is not independent of the checkout's path, and the shared cache does not keep it: the objects compiled with it are what it keeps.")
        case .bpfCompile where step.groups.contains { $0.role == .precompiledHeader }:
            notes.append("Without the -include-pch words the command gives the same object, only slower.")
        case .swiftCompile, .swiftLink, .swiftSupport:
            notes += swiftNotes(step)
        case .minCoreBTF:
            notes.append("bpftool keeps what it finds and leaves out, silently, a field the kernel lacks: it is not a check. 'swbpf verify --kernel' is.")
            notes.append("'swbpf install' puts it at PREFIX/lib/\(step.app ?? "APP")/btf/\(FileSystem.split(step.primaryOutput).base), where the templates' user part looks for the running kernel's release (uname -r) when /sys/kernel/btf/vmlinux is absent.")
        case .vmlinux, .bpfCompile, .compile, .alias:
            break
        }
        return notes
    }

    /// Map, program and global-section names from a generated skeleton, if it exists already.
    package func skeletonContents(_ path: String) -> (maps: [String], programs: [String], globals: [String]) {
        guard let text = FileSystem.readText(FileSystem.join(root, path)) else { return ([], [], []) }
        var maps: [String] = [], programs: [String] = [], globals: [String] = []
        var section = ""
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmed([" ", "\t"])
            if trimmed.hasPrefix("} maps;") || trimmed.hasPrefix("} progs;") || trimmed.hasPrefix("} links;") { section = ""; continue }
            if trimmed.hasPrefix("struct bpf_map *") && section != "links" {
                maps.append(String(trimmed.dropFirst("struct bpf_map *".count).dropLast()))
            } else if trimmed.hasPrefix("struct bpf_program *") {
                programs.append(String(trimmed.dropFirst("struct bpf_program *".count).dropLast()))
            } else if trimmed.hasPrefix("struct bpf_link *") {
                section = "links"
            } else if trimmed.hasPrefix("} *"), trimmed.hasSuffix(";") {
                // `} *rodata;`, `} *bss;`, `} *data;`, `} *kconfig;`: a global-variable section.
                let name = String(trimmed.dropFirst(3).dropLast())
                if ["bss", "data", "rodata", "kconfig"].contains(where: name.hasPrefix) { globals.append(name) }
            }
        }
        var seen = Set<String>()
        return (maps.filter { seen.insert($0).inserted }, programs, globals)
    }

    // MARK: Rendering

    public func render(_ explanations: [StepExplanation]) -> String {
        var out = ""
        for (index, step) in explanations.enumerated() {
            out += "[\(index + 1)/\(explanations.count)] \(step.label) \(step.output)\n"
            out += wrap(step.purpose, indent: "    ") + "\n"
            out += "  $ \(step.command)\n"
            out += "    \(step.tool.words.joined(separator: " ")): \(step.tool.meaning)\n"
            for (number, group) in step.groups.enumerated() {
                out += "  \(number + 1). \(group.title): \(group.items.map(Self.shellText).joined(separator: " "))\n"
                out += wrap(group.summary, indent: "     ") + "\n"
                let width = min(28, group.items.map { Self.shellText($0).count }.max() ?? 0)
                for item in group.items {
                    let text = Self.shellText(item)
                    if text.count > width {
                        // Too long to align: the meaning goes on the lines below.
                        out += "       \(text)\n" + wrap(item.meaning, indent: "         ") + "\n"
                    } else {
                        let padded = text.padded(to: width)
                        out += wrap(item.meaning, indent: String(repeating: " ", count: 7 + width + 2), first: "       \(padded)  ") + "\n"
                    }
                }
            }
            for note in step.notes { out += wrap(note, indent: "    ", first: "  note: ") + "\n" }
            out += "\n"
        }
        return out
    }

    /// How an item's words read in a shell line (a redirect's `>` is not a word to quote).
    package static func shellText(_ item: Item) -> String {
        item.words.first == ">" ? "> " + Shell.join(Array(item.words.dropFirst())) : Shell.join(item.words)
    }

    package func wrap(_ text: String, indent: String, first: String? = nil, width: Int = 100) -> String {
        var lines: [String] = []
        var line = first ?? indent
        let start = line.count
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && line.count > start {
                lines.append(line)
                line = indent
            }
            line += (line.count == (lines.isEmpty ? start : indent.count) ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
