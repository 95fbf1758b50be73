import Foundation
import Testing
@testable import SwbpfBasics
import SwbpfTestSupport

@Suite struct DigestTests {
    @Test func hexRoundTrip() throws {
        let digest = Digest(high: 0x0123_4567_89ab_cdef, low: 0xf)
        #expect(digest.description == "0123456789abcdef000000000000000f")
        #expect(Digest(hex: Array(digest.description.utf8)) == digest)
        #expect(Digest(hex: Array("xyz".utf8)) == nil)
    }
}

@Suite struct SHA256Tests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    @Test func knownVectors() {
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        // A million 'a's in uneven pieces, across block boundaries.
        var left = 1_000_000, piece = 1
        while left > 0 {
            let count = min(piece, left)
            million.update([UInt8](repeating: 0x61, count: count))
            left -= count
            piece = piece % 97 + 13
        }
        #expect(hex(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the padding boundaries agrees with the system's sha256sum.
    @Test func agreesWithSha256sum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swbpf-sha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix(seed: 7)
        var paths: [String] = []
        var expected: [String: String] = [:]
        for length in [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 200_003] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let path = directory.appendingPathComponent("f\(length)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
            expected[path] = hex(SHA256.hash(bytes))
        }
        let result = try runProcess("/usr/bin/sha256sum", paths)
        for line in result.stdout.lines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let path = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
            #expect(expected[path] == parts[0], "\(path)")
        }
        #expect(result.stdout.lines.count == paths.count)
    }
}
