import ArgumentParser
import Foundation
import Pipeline

/// `triage enqueue`: adds a job to the nightly queue folder.
struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Queue input folders/files for the next `triage run --queue QUEUE_DIR`.",
        discussion: """
        Writes one small job file QUEUE_DIR/pending/<time>-<pid>-<random>.json (temporary name, \
        then rename). Paths are stored as absolute paths. See docs/operations.md.
        """)

    @Argument(help: "The queue folder (created if missing).")
    var queueDir: String

    @Argument(help: "Input files or folders to process.")
    var inputs: [String]

    func run() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one INPUT") }
        for input in inputs where !FileManager.default.fileExists(atPath: input) {
            FileHandle.standardError.write(Data("error: input \(input) does not exist\n".utf8))
            throw ExitCode(BatchExitCode.configuration)
        }
        let queue = JobQueue(root: URL(fileURLWithPath: queueDir))
        let name = try queue.enqueue(inputs: inputs)
        print("queued \(queue.root.appendingPathComponent("pending").appendingPathComponent(name).path)")
    }
}
