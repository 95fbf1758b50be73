import SwbpfBasics
import SwbpfModel

/// What `swbpf explain` says about the steps of a Swift app.
extension Explainer {
    package func swiftSupportPurpose(_ step: Step) -> String {
        let app = step.app ?? "NAME"
        let file = step.primaryOutput
        if file.hasSuffix(".modulemap") {
            return "Write the module map that makes the C module C\(app) of \(app)'s umbrella header, so 'import C\(app)' in Swift imports it. It lives in a directory of its own: clang also reads the module map one directory below each -I directory, and two maps declaring one module clash."
        }
        if file.hasSuffix(".json") {
            return "Write swiftc's output-file map, which names where the compile writes its depfile (without one, swiftc puts it in a temporary directory)."
        }
        return "Write the umbrella header of C\(app): <linux/types.h> first (the skeleton and a shared header use __u32 and friends), libbpf's <bpf/libbpf.h> and <bpf/bpf.h>, <getopt.h> (for getopt_long, which Glibc's Swift module leaves out), the app's shared header if it has one, then its skeleton."
    }

    package func swiftItems(_ words: [String], group: ArgumentGroup, step: Step) -> [Item] {
        var items: [Item] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            let next = index + 1 < words.count ? words[index + 1] : nil
            switch word {
            case "-module-name", "-module-cache-path", "-I", "-Xcc", "-output-file-map", "-swift-version", "-file-prefix-map" where next != nil:
                items.append(Item(words: [word, next!], meaning: swiftPairMeaning(word, next!, step: step)))
                index += 2
            default:
                items.append(Item(words: [word], meaning: swiftWordMeaning(word, group: group, step: step)))
                index += 1
            }
        }
        return items
    }

    package func swiftPairMeaning(_ option: String, _ value: String, step: Step) -> String {
        let app = step.app ?? "NAME"
        switch option {
        case "-module-name" where step.kind == .swiftLink:
            return "name the link's own intermediate (the list of libraries the object asks for, \(value).autolink beside it) after the app, so two links at once never share one"
        case "-module-name": return "the Swift module is \(value), the app's name"
        case "-module-cache-path":
            return "keep the modules clang builds from headers (C\(app), Glibc) in \(value), under the output directory, shared by the apps: a warm cache saves about half a second per compile"
        case "-I": return "find module.modulemap (and so the module C\(app)) in \(value)"
        case "-swift-version": return "compile in the Swift \(value) language mode, with its data-race checks"
        case "-output-file-map": return "read where to write the depfile from \(value)"
        case "-file-prefix-map": return "replace the project directory with '.' in every path the compiler records (debug info), so the object is the same in any checkout"
        default:
            let directory = value.hasPrefix("-I") ? String(value.dropFirst(2)) : value
            if directory == "." { return "pass -I. to clang: the project directory, where the app's shared header \(app).h is" }
            if directory == FileSystem.split(step.outputs.first ?? "").directory {
                return "pass -I\(directory) to clang: the output directory, where \(app).skel.h is generated"
            }
            return "pass -I\(directory) to clang, which parses the umbrella header: as the C compiles search it"
        }
    }

    package func swiftWordMeaning(_ word: String, group: ArgumentGroup, step: Step) -> String {
        switch word {
        case "-c": return "compile to an object file, without linking"
        case "-wmo": return "whole-module: every source in one compile and one object, so the skeleton's embedded BPF object is in the binary once (without it, each file gets its own copy)"
        case "-parse-as-library": return "no top-level code: the entry point is the type marked @main, in whichever file it is"
        case "-O": return "optimise for speed"
        case "-Onone": return "no optimisation (the debug build)"
        case "-g": return "emit debug info for lldb and gdb"
        case "-static-stdlib": return "link Swift's standard library and runtime into the binary: it runs without /opt/swift or any Swift toolchain (6.5 MB stripped)"
        case "-static-executable":
            return "link everything statically, Swift's runtime, libbpf's libraries and the C library included (--static): the binary needs no shared library at all"
        case "-emit-dependencies": return "write a depfile of what the compile read"
        case "%s\\n": return "print each word that follows as it is, as a line of its own"
        case "-Xclang-linker": return "hand the next word to the clang driver that links"
        default: break
        }
        if group.role == .fileContents { return "a line of \(step.primaryOutput)" }
        if group.role == .dependencies { return "the output-file map \(word)" }
        return flagMeaning(word)
    }

    package func swiftNotes(_ step: Step) -> [String] {
        switch step.kind {
        case .swiftCompile:
            return ["swiftc's depfile names the project's headers and the module map but not system headers such as bpf/libbpf.h, so libbpf's headers are inputs of this step as well: a new libbpf recompiles it.",
                    "compile_commands.json has one entry per Swift source with this command, the form sourcekit-lsp reads."]
        case .swiftLink:
            return ["The .bpf.o is not on this line: the skeleton embeds it in \(step.app ?? "the app").swift.o."]
        case .swiftSupport:
            return ["Run again only when its text changes, or when the file is missing or was edited; a run that gives the bytes the file already has leaves it untouched (same mtime), so nothing downstream rebuilds."]
        default:
            return []
        }
    }
}
