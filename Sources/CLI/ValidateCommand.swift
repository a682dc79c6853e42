import ArgumentParser
import Foundation
import Pipeline

/// `triage validate`: checks pipeline files without running them.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline YAML files: unknown keys, wrong types and bad values, with file and line.",
        discussion: "Exit code 0 when every file is valid, 2 when any is not. Keys: docs/pipeline.md.")

    @Argument(help: "Pipeline files (e.g. pipelines/chest-ct-nightly.yaml).")
    var pipelines: [String]

    @Flag(name: .long, help: "Print the effective settings (defaults filled in) as JSON.")
    var print = false

    func run() throws {
        var invalid = false
        for path in pipelines {
            do {
                let definition = try PipelineDefinition.load(file: URL(fileURLWithPath: path))
                Swift.print("ok: \(path): pipeline \(definition.name) version \(definition.version), hash \(definition.contentHash.prefix(16))")
                if print {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    Swift.print(String(decoding: try encoder.encode(definition), as: UTF8.self))
                }
            } catch let error as PipelineConfigurationError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                invalid = true
            }
        }
        if invalid { throw ExitCode(BatchExitCode.configuration) }
    }
}
