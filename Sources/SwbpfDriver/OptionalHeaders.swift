import SwbpfBasics
import SwbpfBuild
import SwbpfModel

/// Whether an app whose user part mentions an optional library's header (blazesym.h, on no include
/// path here) really includes it: the preprocessor decides, with every flag of the app's compile
/// (`cc ... -M -MG SOURCE`), not a text match, so an `#include "blazesym.h"` inside
/// `#ifdef USE_BLAZESYM` does not leave the app out. The answers are kept in the build state like
/// tool answers, keyed by the command and the stat data of the source, so a no-op build runs nothing.
package enum OptionalHeaders {
    package static let noteKey = "announced left-out apps"

    /// The apps a bare build would leave out on the text match alone: the preprocessor is asked
    /// about them. Apps named on the command line or in swbpf.toml's `apps` or `also` are built regardless.
    package static func candidates(_ project: Project, requested: [String]) -> [App] {
        guard requested.isEmpty, project.config.onlyApps == nil else { return [] }
        return project.apps.filter { app in
            app.unavailable != nil && !project.config.skipApps.contains(app.name) && !project.config.alsoApps.contains(app.name)
        }
    }

    /// What the preprocessor is asked for one compile step: the step's own command with
    /// `-M -MG` (headers listed, missing ones too) in place of `-c` and `-o`.
    package struct Question: Sendable {
        package var key: String
        package var command: [String]
    }

    package static func question(for step: Step, root: String) -> Question {
        let words = step.groups.filter { $0.role != .output }.flatMap { group in
            group.arguments.filter { $0 != .flag("-c") }.map { $0.resolved(temporaryOutputs: false) }
        }
        let command = [step.tool.path] + step.tool.leadingArguments + words + ["-M", "-MG"]
        let stamps = step.inputs.prefix(1).map { path in
            FileSystem.stat(FileSystem.absolute(path, base: root)).map { "\($0.size):\($0.mtimeNanoseconds):\($0.inode)" } ?? "-"
        }
        return Question(key: "includes \(step.tool.fingerprint) \(stamps.joined()) " + Shell.join(command), command: command)
    }

    /// The user-part compiles of each candidate in `plan`, as questions.
    package static func questions(_ candidates: [App], plan: BuildPlan, root: String) -> [String: [Question]] {
        var questions: [String: [Question]] = [:]
        for app in candidates {
            questions[app.name] = plan.steps(for: [app.name]).filter { $0.kind == .compile && $0.app == app.name }
                .map { question(for: $0, root: root) }
        }
        return questions
    }

    /// Asks the preprocessor; the answer is the optional headers the compile includes, or
    /// `["?"]` when the preprocessor failed (then the app stays left out, as the text said).
    package static func ask(_ question: Question, root: String) async throws -> [String] {
        let outcome = try await SystemProcessRunner().run(ProcessRequest(executable: question.command[0],
                                                                         arguments: Array(question.command.dropFirst()),
                                                                         workingDirectory: root))
        guard outcome.status == 0 else { return ["?"] }
        let words = String(decoding: outcome.standardOutput, as: UTF8.self).split(whereSeparator: { " \n\\".contains($0) })
        let optional = Set(AppRequirements.libraries.map(\.header))
        return words.map { FileSystem.split(String($0)).base }.filter(optional.contains)
    }

    /// Which candidates stay left out, given the answers (nil while one is missing).
    package static func leftOut(_ candidates: [App], questions: [String: [Question]], answers: [String: [String]]) -> [App]? {
        var leftOut: [App] = []
        for app in candidates {
            let values = (questions[app.name] ?? []).map { answers[$0.key] }
            if values.contains(where: { $0 == nil }) { return nil }
            if values.contains(where: { !($0 ?? []).isEmpty }) { leftOut.append(app) }
        }
        return leftOut
    }

    /// Reports the notes of the apps left out when they differ from the last ones shown.
    package static func announce(_ leftOut: [App], state: BuildState, reporter: BuildReporter) {
        let notes = leftOut.compactMap(\.unavailable)
        guard state.probe(noteKey) ?? [] != notes else { return }
        notes.forEach { reporter.handle(.diagnostic(Diagnostic(.note, $0))) }
        state.storeProbe(noteKey, notes)
    }
}
