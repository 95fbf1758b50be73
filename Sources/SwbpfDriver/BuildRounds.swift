import FoundationEssentials
import SwbpfBasics
import SwbpfBuild

extension BuildSession {
    /// One whole build, for the commands that go on after it (verify, run, --watch): prepare, then
    /// finish without running or run. An error is reported to `console` as a diagnostic. The
    /// prepared build comes back whenever it was made: it holds the project's lock until released,
    /// and its plan and state say what the build read.
    public static func build(_ request: BuildRequest, console: BuildReporter, since begin: Date = Date()) async
        -> (status: Int32, prepared: PreparedBuild?) {
        let prepared: PreparedBuild
        do {
            prepared = try prepare(request, console: console)
        } catch {
            console.handle(.diagnostic(Diagnostic(of: error)))
            return (1, nil)
        }
        if let status = finishWithoutRunning(prepared, since: begin) { return (status, prepared) }
        return (await run(prepared, since: begin), prepared)
    }
}

extension PreparedBuild {
    /// The project as planned, once the build got that far.
    public var plannedProject: OpenedProject? { opened }
}
