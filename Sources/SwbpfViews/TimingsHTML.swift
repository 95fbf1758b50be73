import FoundationEssentials
import SwbpfBasics
import SwbpfModel

/// The self-contained HTML timings report: an inline SVG Gantt chart, one lane per worker, bars
/// coloured by stage with the command as hover text, then the table. No script, no external file.
public enum TimingsHTML {
    package static func colour(of kind: StepKind) -> String {
        switch kind {
        case .vmlinux: return "#9b59b6"
        case .precompiledHeader: return "#d35400"
        case .bpfCompile: return "#e67e22"
        case .bpfLink: return "#f1c40f"
        case .skeleton, .swiftSupport: return "#1abc9c"
        case .compile: return "#3498db"
        case .swiftCompile: return "#f05138"
        case .link, .swiftLink: return "#2ecc71"
        case .libbpf: return "#8e44ad"
        case .bpftool: return "#c0392b"
        case .alias, .kernelLoader: return "#95a5a6"
        case .minCoreBTF: return "#16a085"
        }
    }

    package static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }

    /// The stages the chart shows, in build order, each label once (C and Swift links are both
    /// BINARY).
    package static func legendEntries(_ recorder: TimingsRecorder) -> [(label: String, colour: String)] {
        let present = Set(recorder.executed.map(\.step.kind))
        var seen = Set<String>()
        return StepKind.allCases.filter { present.contains($0) && seen.insert($0.label).inserted }.map { ($0.label, colour(of: $0)) }
    }

    public static func render(_ recorder: TimingsRecorder, project: String) -> String {
        let total = max(recorder.total, recorder.executed.map(\.end).max() ?? 0, 0.001)
        let workers = (recorder.executed.map(\.worker).max() ?? 0) + 1
        let laneHeight = 28, top = 30, left = 90, width = 1000
        let height = top + workers * laneHeight + 30
        func x(_ seconds: TimeInterval) -> Double { Double(left) + seconds / total * Double(width) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + width + 50)\" height=\"\(height)\" role=\"img\" aria-label=\"build timeline\">\n"
        for lane in 0..<workers {
            let y = top + lane * laneHeight
            svg += "<text x=\"4\" y=\"\(y + 18)\" class=\"lane\">worker \(lane + 1)</text>\n"
            svg += "<line x1=\"\(left)\" y1=\"\(y + laneHeight)\" x2=\"\(left + width)\" y2=\"\(y + laneHeight)\" class=\"grid\"/>\n"
        }
        let ticks = 10
        for tick in 0...ticks {
            let seconds = total * Double(tick) / Double(ticks)
            let position = x(seconds)
            svg += "<text x=\"\(Decimal.string(position, places: 1))\" y=\"\(top - 8)\" class=\"tick\">\((Decimal.string(seconds, places: 2) + "s"))</text>\n"
        }
        for timed in recorder.executed {
            let y = top + timed.worker * laneHeight + 3
            let barWidth = max(1.5, x(timed.end) - x(timed.start))
            let failed = timed.result != .succeeded
            svg += "<rect class=\"bar\" data-step=\"\(timed.step.id)\" x=\"\(Decimal.string(x(timed.start), places: 1))\" y=\"\(y)\" width=\"\(Decimal.string(barWidth, places: 1))\" height=\"\(laneHeight - 6)\" fill=\"\(colour(of: timed.step.kind))\"\(failed ? " stroke=\"#c0392b\" stroke-width=\"2\"" : "")>"
            svg += "<title>\(escape("\(timed.step.kind.label) \(timed.step.primaryOutput) — \((Decimal.string(timed.duration * 1000, places: 1) + " ms"))\n$ \(timed.step.shellCommand)"))</title></rect>\n"
            // A label only where it fits: about 6 px a character at this font size.
            let label = timed.step.kind.label + " " + FileSystem.split(timed.step.primaryOutput).base
            let fitting = Int((barWidth - 6) / 6)
            if fitting >= 6 {
                let text = label.count <= fitting ? label : String(label.prefix(fitting - 1)) + "…"
                svg += "<text x=\"\(Decimal.string(x(timed.start) + 3, places: 1))\" y=\"\(y + 15)\" class=\"label\">\(escape(text))</text>\n"
            }
        }
        svg += "</svg>\n"
        var legend = ""
        for (label, colour) in legendEntries(recorder) {
            legend += "<span class=\"key\"><span class=\"swatch\" style=\"background:\(colour)\"></span>\(label)</span>\n"
        }
        var rows = ""
        for timed in recorder.executed.sorted(by: { $0.duration > $1.duration }) {
            rows += "<tr><td class=\"num\">\(Decimal.string(timed.duration * 1000, places: 1))</td><td>\(timed.step.kind.label)</td><td>\(escape(timed.step.primaryOutput))</td><td>worker \(timed.worker + 1)</td><td><code>\(escape(timed.step.shellCommand))</code></td></tr>\n"
        }
        let path = recorder.criticalPath.map { escape("\($0.step.kind.label) \($0.step.primaryOutput)") }.joined(separator: " → ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>swbpf build timings: \(escape(project))</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 18px; } .lane, .tick { font-size: 11px; fill: #555; } .label { font-size: 10px; fill: #111; pointer-events: none; }
        .grid { stroke: #ddd; } .bar:hover { opacity: 0.75; } .key { margin-right: 14px; }
        .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
        table { border-collapse: collapse; margin-top: 16px; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
        .num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: 11px; }
        </style></head><body>
        <h1>swbpf build timings — \(escape(project))</h1>
        <p>\(recorder.executed.count) steps run, \(recorder.cached.count) up to date, \(Decimal.string(recorder.total, places: 2)) s in total. Hover a bar for its command.</p>
        <p>\(legend)</p>
        \(svg)
        <p><strong>Critical path:</strong> \(path.isEmpty ? "none" : path)</p>
        <table><thead><tr><th>ms</th><th>step</th><th>output</th><th>lane</th><th>command</th></tr></thead><tbody>
        \(rows)</tbody></table>
        </body></html>

        """
    }
}
