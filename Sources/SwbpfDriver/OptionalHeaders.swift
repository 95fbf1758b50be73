import SwbpfBasics
import SwbpfBuild
import SwbpfModel
import SwbpfToolchain

/// Whether an app whose user part mentions an optional library's header (blazesym.h, on no include
/// path here) really includes it: the preprocessor decides, with every flag of the app's compile
/// (`cc ... -M -MG SOURCE`), not a text match, so an `#include "blazesym.h"` inside
/// `#ifdef USE_BLAZESYM` does not leave the app out. The answers are cached with the tool answers,
/// keyed by the command and the stat data of the source, so a no-op build runs nothing.
package enum OptionalHeaders {
    package static let subject = "left-out apps"

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
    package static func question(for step: Step, root: String) -> ToolQuestion {
        let words = step.groups.filter { $0.role != .output }.flatMap { group in
            group.arguments.filter { $0 != .flag("-c") }.map { $0.resolved(temporaryOutputs: false) }
        }
        let source = step.inputs.first.map { FileSystem.absolute($0, base: root) } ?? ""
        return ToolQuestion(.includes(arguments: words + ["-M", "-MG"], source: source, directory: root), step.tool)
    }

    /// The user-part compiles of each candidate in `plan`, as questions.
    package static func questions(_ candidates: [App], plan: BuildPlan, root: String) -> [String: [ToolQuestion]] {
        var questions: [String: [ToolQuestion]] = [:]
        for app in candidates {
            questions[app.name] = plan.steps(for: [app.name]).filter { $0.kind == .compile && $0.app == app.name }
                .map { question(for: $0, root: root) }
        }
        return questions
    }

    /// Which candidates stay left out: those with a compile that includes an optional header (or
    /// that the preprocessor could not run). Nil while an answer is missing; `lookup` notes which.
    package static func leftOut(_ candidates: [App], questions: [String: [ToolQuestion]], lookup: inout AnswerLookup) -> [App]? {
        var leftOut: [App] = []
        for app in candidates {
            let answers = (questions[app.name] ?? []).map { lookup.answer($0) }
            if answers.contains(where: { !($0 ?? []).isEmpty }) { leftOut.append(app) }
        }
        return lookup.missing.isEmpty ? leftOut : nil
    }

    /// The one decision every view shares (build, -n, --format json, install, explain, compdb):
    /// the apps a build of `requested` covers, `selected` with the candidates the preprocessor
    /// clears, and the candidates it leaves out. Nil while an answer is missing (`lookup` notes which).
    package static func decide(_ project: Project, selected: [App], requested: [String], plan: BuildPlan,
                               lookup: inout AnswerLookup) -> (built: [App], leftOut: [App])? {
        let candidates = candidates(project, requested: requested)
        let asked = questions(candidates, plan: plan, root: project.root)
        guard let leftOut = leftOut(candidates, questions: asked, lookup: &lookup) else { return nil }
        let built = Set(selected.map(\.name)).union(candidates.map(\.name)).subtracting(leftOut.map(\.name))
        return (project.apps.filter { built.contains($0.name) }, leftOut)
    }

    /// Reports the notes of the apps left out when they differ from the last ones shown.
    package static func announce(_ leftOut: [App], notes: inout ShownNotes, reporter: BuildReporter) {
        let diagnostics = leftOut.compactMap(\.unavailable).map { Diagnostic(.note, $0) }
        notes.report(diagnostics, as: subject, worthSaying: !diagnostics.isEmpty, to: reporter)
    }
}
