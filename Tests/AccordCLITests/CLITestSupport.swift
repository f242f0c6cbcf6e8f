import AccordTesting
import Foundation
import Testing

/// Runs `accord` against `journal` and returns the result.
@discardableResult
func accord(_ arguments: [String], journal: String? = nil, input: String = "", environment: [String: String] = [:]) throws -> AccordExecutable.Result {
    try AccordExecutable.run(arguments + (journal.map { ["--journal", $0] } ?? []), input: Array(input.utf8), environment: environment)
}

/// Runs a shell command and returns its standard output and exit status.
func shell(_ command: String) throws -> (status: Int32, output: [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let scratch = TemporaryDirectory("shell")
    let outPath = scratch.child("out")
    FileManager.default.createFile(atPath: outPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardOutput = out
    try process.run()
    process.waitUntilExit()
    try out.close()
    return (process.terminationStatus, Array(try Data(contentsOf: URL(fileURLWithPath: outPath))))
}

/// A new journal for site `brussels`, made with `accord init`.
func newJournal(_ temp: TemporaryDirectory, site: String = "brussels") throws -> String {
    let path = temp.child("journal")
    let result = try accord(["init", "--site", site], journal: path)
    #expect(result.status == 0, "\(result.stderr)")
    return path
}

/// The number of events `accord log --json` prints.
func eventCount(_ journal: String) throws -> Int {
    let result = try accord(["log", "--json"], journal: journal)
    #expect(result.status == 0, "\(result.stderr)")
    return result.output.split(separator: "\n").count
}

/// A JSON Lines line for `accord append --from`.
func line(_ type: String, _ subject: String, _ data: String) -> String {
    #"{"type":"\#(type)","subject":"\#(subject)","data":\#(data)}"#
}

let stakeholder = line("stakeholder.registered.v1", "stakeholder/eib", #"{"name":"European Investment Bank","kind":"financial","country":"EU"}"#)
