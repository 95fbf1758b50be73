import SwbpfBasics

/// Finds which kernel-side sources begin with `#include "vmlinux.h"` (or `<vmlinux.h>`): only
/// comments and blank lines may come before it. Such a source can be compiled with the
/// precompiled vmlinux.h, which must come before anything else the source says: a macro defined
/// earlier, or a kernel UAPI header included first (minimal.bpf.c includes linux/bpf.h), would
/// see or clash with different declarations.
package enum FirstInclude {
    package static func vmlinuxFirst(_ sources: [String], root: String) -> Set<String> {
        Set(sources.filter { source in
            guard let bytes = FileSystem.read(FileSystem.join(root, source)) else { return false }
            return firstInclude(in: bytes) == "vmlinux.h"
        })
    }

    /// Those of `sources` with a vmlinux.h in their own directory (searched first by a quoted include).
    package static func vmlinuxBeside(_ sources: Set<String>, root: String) -> Set<String> {
        sources.filter { FileSystem.exists(FileSystem.join(root, FileSystem.join(FileSystem.split($0).directory, "vmlinux.h"))) }
    }

    /// The name in the first `#include`, when nothing but comments and white space comes before it.
    package static func firstInclude(in bytes: [UInt8]) -> String? {
        var index = 0
        let count = bytes.count
        func at(_ offset: Int) -> UInt8? { index + offset < count ? bytes[index + offset] : nil }
        while index < count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B:
                index += 1
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "/"):
                while index < count, bytes[index] != 0x0A { index += 1 }
            case UInt8(ascii: "/") where at(1) == UInt8(ascii: "*"):
                index += 2
                while index < count, !(bytes[index] == UInt8(ascii: "*") && at(1) == UInt8(ascii: "/")) { index += 1 }
                index += 2
            case UInt8(ascii: "#"):
                index += 1
                while index < count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
                let directive = Array("include".utf8)
                guard index + directive.count <= count, Array(bytes[index..<index + directive.count]) == directive else { return nil }
                index += directive.count
                while index < count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
                guard index < count else { return nil }
                let close: UInt8
                switch bytes[index] {
                case UInt8(ascii: "\""): close = UInt8(ascii: "\"")
                case UInt8(ascii: "<"): close = UInt8(ascii: ">")
                default: return nil
                }
                let start = index + 1
                var end = start
                while end < count, bytes[end] != close, bytes[end] != 0x0A { end += 1 }
                guard end < count, bytes[end] == close else { return nil }
                return String(decoding: bytes[start..<end], as: UTF8.self)
            default:
                return nil
            }
        }
        return nil
    }
}
