import SwbpfBasics

/// Libraries some apps need that a machine may not have. libbpf-bootstrap's Makefile adds its
/// `profile` app only when cargo can build blazesym; swbpf leaves out, with a note, an app whose
/// user part includes such a library's header when that header is not on the app's include
/// path, so an app nobody asked for never breaks the build of the others. Naming the app on the
/// command line builds it anyway.
package enum AppRequirements {
    package struct Library {
        /// The header whose `#include` marks an app as needing the library.
        package var header: String
        /// What to say about it in the note.
        package var description: String

        package init(header: String, description: String) {
            self.header = header
            self.description = description
        }
    }

    package static let libraries = [
        Library(header: "blazesym.h",
                description: "blazesym, a Rust library (libbpf-bootstrap builds it from its blazesym submodule with cargo); once built, add its capi/include directory to 'include' and its libblazesym_c.a to the app's 'libs' in swbpf.toml"),
    ]

    /// Why `app` cannot be built here, or nil. `directories` are the include directories of its
    /// user-space compile besides the system's.
    package static func unavailable(_ app: App, root: String, directories: [String]) -> String? {
        for source in app.userSources {
            let included = IncludeScanner.allIncludes(in: FileSystem.read(FileSystem.join(root, source)) ?? [])
            for library in libraries where included.contains(library.header) {
                let searched = directories.map { FileSystem.absolute($0, base: root) } + ["/usr/local/include", "/usr/include"]
                if searched.contains(where: { FileSystem.exists(FileSystem.join($0, library.header)) }) { continue }
                return "\(app.name) is left out: \(source) includes \(library.header), which is on no include path: it needs \(library.description); 'swbpf build \(app.name)' tries anyway"
            }
        }
        return nil
    }

    /// The `-I` directories of a user-space compile: swbpf.toml's `include` and any `-I` in
    /// `cflags` (project-wide and the app's).
    package static func includeDirectories(of app: App, config: ProjectConfig, arch: String?) -> [String] {
        let flags = config.cflags + app.cflags
        var directories = config.includeDirectories.map { directory in arch.map { directory.replacing("{arch}", with: $0) } ?? directory }
        var index = 0
        while index < flags.count {
            if flags[index] == "-I", index + 1 < flags.count {
                directories.append(flags[index + 1])
                index += 1
            } else if flags[index].hasPrefix("-I") {
                directories.append(String(flags[index].dropFirst(2)))
            }
            index += 1
        }
        return directories
    }
}

extension IncludeScanner {
    /// The names of every `#include "x"` and `#include <x>`, without evaluating the preprocessor.
    package static func allIncludes(in bytes: [UInt8]) -> Set<String> {
        var names = Set<String>()
        for line in bytes.split(separator: 0x0A) {
            var rest = line.drop { $0 == 0x20 || $0 == 0x09 }
            guard rest.first == UInt8(ascii: "#") else { continue }
            rest = rest.dropFirst().drop { $0 == 0x20 || $0 == 0x09 }
            guard rest.starts(with: Array("include".utf8)) else { continue }
            rest = rest.dropFirst(7).drop { $0 == 0x20 || $0 == 0x09 }
            guard let open = rest.first, open == UInt8(ascii: "\"") || open == UInt8(ascii: "<") else { continue }
            let close = open == UInt8(ascii: "<") ? UInt8(ascii: ">") : open
            let name = rest.dropFirst().prefix { $0 != close }
            if name.count < rest.count - 1 { names.insert(String(decoding: name, as: UTF8.self)) }
        }
        return names
    }
}
