import Foundation

/// Caps the bytes of studies in flight (decoded volume + detection working memory).
/// `acquire` blocks until the reservation fits; a single study larger than the whole
/// budget waits until nothing else is in flight and then runs alone, so an oversized
/// study slows the batch down instead of deadlocking it or pushing it into swap.
final class MemoryBudget: @unchecked Sendable {
    let budgetBytes: Int
    private let condition = NSCondition()
    private var inFlightBytes = 0
    private var inFlightCount = 0
    private(set) var peakReservedBytes = 0
    private(set) var oversizedStudies = 0
    private(set) var waitSeconds: Double = 0

    init(budgetBytes: Int) {
        self.budgetBytes = max(1, budgetBytes)
    }

    func acquire(_ bytes: Int) {
        condition.lock()
        let start = monotonicSeconds()
        if bytes > budgetBytes {
            while inFlightCount > 0 { condition.wait() }
            oversizedStudies += 1
        } else {
            while inFlightBytes + bytes > budgetBytes { condition.wait() }
        }
        waitSeconds += monotonicSeconds() - start
        inFlightBytes += bytes
        inFlightCount += 1
        peakReservedBytes = max(peakReservedBytes, inFlightBytes)
        condition.unlock()
    }

    func release(_ bytes: Int) {
        condition.lock()
        inFlightBytes -= bytes
        inFlightCount -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The budget a pipeline asks for: `budget_mib`, or `fraction_of_physical` of MemTotal.
    static func budgetBytes(for settings: MemorySettings) -> Int {
        if let mib = settings.budgetMiB { return mib << 20 }
        let physical = MachineMemory.physicalBytes() ?? (4 << 30)
        return Int(Double(physical) * settings.fractionOfPhysical)
    }

    /// Bytes one study reserves: its float volume times the working factor.
    static func reservation(voxels: Int, settings: MemorySettings) -> Int {
        Int(Double(voxels) * 4 * settings.workingFactor)
    }
}

/// Memory figures of the machine and this process, from /proc (Linux).
public enum MachineMemory {
    /// MemTotal from /proc/meminfo.
    public static func physicalBytes() -> Int? {
        kibValue(file: "/proc/meminfo", key: "MemTotal:").map { $0 * 1024 }
    }

    /// Peak resident set size (VmHWM) of this process from /proc/self/status.
    public static func peakResidentBytes() -> Int? {
        kibValue(file: "/proc/self/status", key: "VmHWM:").map { $0 * 1024 }
    }

    private static func kibValue(file: String, key: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let value = Int(fields[1]) { return value }
        }
        return nil
    }
}
