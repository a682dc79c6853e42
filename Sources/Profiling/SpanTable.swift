/// Aggregates spans from repeated runs into one row per span name, the table that
/// `triage profile` prints.
///
/// Each repeat contributes, per name, the SUM of that name's span durations in the repeat
/// (a kernel called once per scale shows its total per study). Over repeats the table
/// reports the median and the minimum, as benchmark practice asks on a noisy machine.
/// Rates (voxels/s, GB/s, GFLOP/s) divide the median repeat's counters by its median time.
public struct SpanTable: Sendable {
    public struct Row: Sendable, Codable, Equatable {
        public var name: String
        /// Times the span ran per repeat (median over repeats).
        public var callsPerRepeat: Int
        public var medianSeconds: Double
        public var minSeconds: Double
        /// medianSeconds / median total wall time of a repeat.
        public var shareOfTotal: Double
        public var voxelsPerSecond: Double?
        public var bytesMoved: Int
        public var gigabytesPerSecond: Double?
        public var flops: Int
        public var gigaflopsPerSecond: Double?
        /// GB/s as a percentage of the calibrated copy bandwidth.
        public var percentOfBandwidth: Double?
        /// GFLOP/s as a percentage of the calibrated sgemm rate.
        public var percentOfPeakFlops: Double?
    }

    public var rows: [Row]
    /// Median wall time of one repeat (seconds).
    public var medianTotalSeconds: Double
    public var minTotalSeconds: Double

    /// - Parameters:
    ///   - repeats: the spans of each repeat, in order.
    ///   - totalSeconds: measured wall time of each repeat (same count as `repeats`).
    ///   - bandwidthGBs / peakGFLOPs: machine limits from calibration (nil = no percentages).
    public init(repeats: [[SpanRecord]], totalSeconds: [Double],
                bandwidthGBs: Double? = nil, peakGFLOPs: Double? = nil) {
        precondition(repeats.count == totalSeconds.count && !repeats.isEmpty, "one total per repeat")
        let medianTotal = Self.median(totalSeconds)
        medianTotalSeconds = medianTotal
        minTotalSeconds = totalSeconds.min() ?? 0
        var order: [String] = []
        var seen = Set<String>()
        for spans in repeats {
            for s in spans.sorted(by: { $0.startNanoseconds < $1.startNanoseconds }) where !seen.contains(s.name) {
                seen.insert(s.name)
                order.append(s.name)
            }
        }
        rows = order.map { name in
            // Per repeat: (seconds, calls, voxels, bytes, flops) for this name.
            let perRepeat = repeats.map { spans -> (Double, Int, Int, Int, Int) in
                let mine = spans.filter { $0.name == name }
                return (mine.reduce(0) { $0 + $1.seconds }, mine.count, mine.reduce(0) { $0 + $1.voxels },
                        mine.reduce(0) { $0 + $1.bytesMoved }, mine.reduce(0) { $0 + $1.flops })
            }
            let seconds = perRepeat.map(\.0)
            let med = Self.median(seconds)
            // Counters of the repeat whose time is the median (they rarely differ between repeats).
            let medianRepeat = perRepeat.min { abs($0.0 - med) < abs($1.0 - med) }!
            let voxels = medianRepeat.2, bytes = medianRepeat.3, flops = medianRepeat.4
            let gbs = bytes > 0 && med > 0 ? Double(bytes) / med / 1e9 : nil
            let gflops = flops > 0 && med > 0 ? Double(flops) / med / 1e9 : nil
            return Row(name: name,
                       callsPerRepeat: Int(Self.median(perRepeat.map { Double($0.1) }).rounded()),
                       medianSeconds: med, minSeconds: seconds.min() ?? 0,
                       shareOfTotal: medianTotal > 0 ? med / medianTotal : 0,
                       voxelsPerSecond: voxels > 0 && med > 0 ? Double(voxels) / med : nil,
                       bytesMoved: bytes, gigabytesPerSecond: gbs, flops: flops, gigaflopsPerSecond: gflops,
                       percentOfBandwidth: gbs.flatMap { g in bandwidthGBs.map { 100 * g / $0 } },
                       percentOfPeakFlops: gflops.flatMap { g in peakGFLOPs.map { 100 * g / $0 } })
        }
    }

    /// Median of a non-empty list (mean of the middle two for even counts).
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// A fixed-width text table.
    public func formatted() -> String {
        func f(_ v: Double?, _ digits: Int) -> String {
            guard let v else { return "-" }
            return String(format: "%.\(digits)f", v)
        }
        func si(_ v: Double?) -> String {
            guard let v else { return "-" }
            if v >= 1e9 { return String(format: "%.2fG", v / 1e9) }
            if v >= 1e6 { return String(format: "%.1fM", v / 1e6) }
            if v >= 1e3 { return String(format: "%.1fk", v / 1e3) }
            return String(format: "%.0f", v)
        }
        let header = ["span", "calls", "median ms", "min ms", "share", "voxels/s", "GB/s", "%BW", "GFLOP/s", "%peak"]
        var lines = [header]
        for r in rows {
            lines.append([r.name, "\(r.callsPerRepeat)", f(r.medianSeconds * 1000, 1), f(r.minSeconds * 1000, 1),
                          f(100 * r.shareOfTotal, 1) + "%", si(r.voxelsPerSecond), f(r.gigabytesPerSecond, 2),
                          f(r.percentOfBandwidth, 0), f(r.gigaflopsPerSecond, 2), f(r.percentOfPeakFlops, 0)])
        }
        lines.append(["total (wall)", "", f(medianTotalSeconds * 1000, 1), f(minTotalSeconds * 1000, 1),
                      "100.0%", "", "", "", "", ""])
        let widths = header.indices.map { c in lines.map { $0[c].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { c, cell in
                c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
