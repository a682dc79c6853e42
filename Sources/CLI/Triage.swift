import ArgumentParser
import Kernels

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
            TrainPriorCommand.self,
        ]
    )

    static func main() {
        // Before anything else: OpenBLAS's idle threads would otherwise spin for ~70 ms of
        // CPU next to the command's own workers (KernelContext.stopIdleBLASThreads).
        KernelContext.stopIdleBLASThreads()
        main(nil)
    }
}

enum TriageVersion {
    static let string = "0.1.0"
}
