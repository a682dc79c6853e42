import ArgumentParser

/// The `triage` command. Each subcommand lives in its own file in this folder.
@main
struct Triage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triage",
        abstract: "Chest-CT triage: read image series, detect lung nodules, write ranked findings reports.",
        version: TriageVersion.string,
        subcommands: [
            // Add each command here as it lands.
            InspectCommand.self,
            PhantomCommand.self,
            EvaluateCommand.self,
            ProfileCommand.self,
            RunCommand.self,
            EnqueueCommand.self,
            ValidateCommand.self,
            DetectCommand.self,
            TrainCommand.self,
        ]
    )
}

enum TriageVersion {
    static let string = "0.1.0"
}
