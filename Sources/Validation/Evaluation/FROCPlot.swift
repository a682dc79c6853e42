import Foundation

/// Draws FROC curves as a standalone SVG: log2 false-positive axis from 1/8 to 8 per scan
/// (the LUNA16 range), sensitivity 0-1, grid, the bootstrap band of the all-nodule curve, and
/// markers at the seven CPM rates.
public enum FROCPlot {
    public static let width = 760.0
    public static let height = 560.0
    static let left = 78.0, right = 24.0, top = 64.0, bottom = 72.0
    static let minimumLog2 = -3.0, maximumLog2 = 3.0

    struct Series {
        var label: String
        var color: String
        var dashed: Bool
        var summary: EvaluationSummary.FROCSummary
    }

    /// The SVG document for an evaluation summary.
    public static func svg(for summary: EvaluationSummary) -> String {
        let series = [
            Series(label: "all nodules (\(summary.froc.nodules))", color: "#1f5fbf", dashed: false,
                   summary: summary.froc),
            Series(label: "nodules \u{2265} 6 mm (\(summary.frocNodules6MMOrLarger.nodules))", color: "#d9731a",
                   dashed: true, summary: summary.frocNodules6MMOrLarger),
        ]
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(fmt(width))" height="\(fmt(height))" fill="#ffffff"/>

        """
        // Title: CPM with its interval.
        var title = "FROC"
        if let cpm = summary.froc.cpm {
            title += " \u{2014} CPM \(decimal(cpm))"
            if let ci = summary.froc.cpmCI {
                title += " (95% CI \(decimal(ci.low))\u{2013}\(decimal(ci.high)))"
            }
        }
        title += ", \(summary.froc.scans) scans"
        svg += text(title, x: width / 2, y: 30, size: 18, anchor: "middle", weight: "bold")

        // Grid and ticks.
        let plotLeft = left, plotRight = width - right, plotTop = top, plotBottom = height - bottom
        for (index, rate) in FROCCurve.luna16Rates.enumerated() {
            let x = xPosition(rate)
            svg += line(x, plotTop, x, plotBottom, stroke: "#d0d0d0", width: 1)
            let labels = ["1/8", "1/4", "1/2", "1", "2", "4", "8"]
            svg += text(labels[index], x: x, y: plotBottom + 22, size: 14, anchor: "middle")
        }
        for step in 0...10 {
            let value = Double(step) / 10
            let y = yPosition(value)
            svg += line(plotLeft, y, plotRight, y, stroke: step % 5 == 0 ? "#b8b8b8" : "#e4e4e4", width: 1)
            svg += text(String(format: "%.1f", value), x: plotLeft - 8, y: y + 5, size: 13, anchor: "end")
        }
        svg += "<rect x=\"\(fmt(plotLeft))\" y=\"\(fmt(plotTop))\" width=\"\(fmt(plotRight - plotLeft))\" height=\"\(fmt(plotBottom - plotTop))\" fill=\"none\" stroke=\"#404040\" stroke-width=\"1.2\"/>\n"
        svg += text("Average false positives per scan (log scale)", x: (plotLeft + plotRight) / 2, y: height - 22,
                    size: 15, anchor: "middle")
        svg += "<text x=\"22\" y=\"\(fmt((plotTop + plotBottom) / 2))\" font-size=\"15\" text-anchor=\"middle\" transform=\"rotate(-90 22 \(fmt((plotTop + plotBottom) / 2)))\">Sensitivity</text>\n"

        // Bootstrap band of the all-nodule curve.
        let curve = summary.froc.curve
        if let lows = curve.ciLow, let highs = curve.ciHigh {
            var upper: [String] = [], lower: [String] = []
            for index in curve.falsePositivesPerScan.indices {
                guard let low = lows[index], let high = highs[index] else { continue }
                let x = xPosition(curve.falsePositivesPerScan[index])
                upper.append("\(fmt(x)),\(fmt(yPosition(high)))")
                lower.append("\(fmt(x)),\(fmt(yPosition(low)))")
            }
            if !upper.isEmpty {
                let polygon = (upper + lower.reversed()).joined(separator: " ")
                svg += "<polygon points=\"\(polygon)\" fill=\"#1f5fbf\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
            }
        }

        // Curves and markers.
        for item in series {
            guard let points = pathPoints(item.summary.points), !points.isEmpty else { continue }
            let path = points.map { "\(fmt(xPosition($0.0))),\(fmt(yPosition($0.1)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"2.4\""
            svg += item.dashed ? " stroke-dasharray=\"7 4\"/>\n" : "/>\n"
            for rate in item.summary.sensitivities {
                guard let value = rate.sensitivity else { continue }
                svg += "<circle cx=\"\(fmt(xPosition(rate.falsePositivesPerScan)))\" cy=\"\(fmt(yPosition(value)))\" r=\"4\" fill=\"\(item.color)\"/>\n"
            }
        }

        // Legend (lower right, where FROC curves rarely are... above the axis).
        var legendY = plotBottom - 20.0 * Double(series.count + 1) - 8
        let legendX = plotRight - 250
        svg += "<rect x=\"\(fmt(legendX - 10))\" y=\"\(fmt(legendY - 16))\" width=\"246\" height=\"\(fmt(20.0 * Double(series.count + 1) + 8))\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#b0b0b0\"/>\n"
        for item in series {
            svg += line(legendX, legendY - 5, legendX + 30, legendY - 5, stroke: item.color, width: 2.4,
                        dash: item.dashed ? "7 4" : nil)
            svg += text(item.label, x: legendX + 38, y: legendY, size: 13, anchor: "start")
            legendY += 20
        }
        if curve.ciLow != nil {
            svg += "<rect x=\"\(fmt(legendX))\" y=\"\(fmt(legendY - 12))\" width=\"30\" height=\"10\" fill=\"#1f5fbf\" fill-opacity=\"0.15\"/>\n"
            svg += text("95% bootstrap band (all nodules)", x: legendX + 38, y: legendY, size: 13, anchor: "start")
        }
        svg += "</svg>\n"
        return svg
    }

    /// The exact piecewise-linear FROC (linear in FPs/scan, as it is interpolated) between
    /// 1/8 and 8, subdivided so it stays faithful on the log axis. Nil without nodules.
    static func pathPoints(_ points: [EvaluationSummary.CurvePoint]) -> [(Double, Double)]? {
        var fps: [Double] = [], sens: [Double] = []
        for point in points {
            guard let value = point.sensitivity else { return nil }
            fps.append(point.falsePositivesPerScan)
            sens.append(value)
        }
        guard !fps.isEmpty else { return nil }
        let curve = FROCCurve(falsePositivesPerScan: fps, sensitivity: sens,
                              thresholds: points.map { $0.threshold ?? .infinity }, noduleCount: 0, scanCount: 0)
        let low = 0.125, high = 8.0
        var result: [(Double, Double)] = [(low, curve.sensitivity(atFalsePositivesPerScan: low))]
        for index in fps.indices where fps[index] > low && fps[index] < high {
            result.append((fps[index], sens[index]))
        }
        result.append((high, curve.sensitivity(atFalsePositivesPerScan: high)))
        // Subdivide each segment into pieces of at most 1/16 octave.
        var dense: [(Double, Double)] = [result[0]]
        for index in 1..<result.count {
            let (x0, y0) = result[index - 1], (x1, y1) = result[index]
            if x1 > x0 {
                let pieces = max(1, Int((log2(x1 / x0) * 16).rounded(.up)))
                for piece in 1..<pieces {
                    let x = x0 * Foundation.pow(x1 / x0, Double(piece) / Double(pieces))
                    dense.append((x, y0 + (y1 - y0) * (x - x0) / (x1 - x0)))
                }
            }
            dense.append((x1, y1))
        }
        return dense
    }

    static func xPosition(_ rate: Double) -> Double {
        let clamped = min(max(log2(rate), minimumLog2), maximumLog2)
        return left + (clamped - minimumLog2) / (maximumLog2 - minimumLog2) * (width - left - right)
    }

    static func yPosition(_ sensitivity: Double) -> Double {
        let clamped = min(max(sensitivity, 0), 1)
        return height - bottom - clamped * (height - bottom - top)
    }

    static func fmt(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    static func decimal(_ value: Double) -> String {
        String(format: "%.3f", value)
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double,
                     dash: String? = nil) -> String {
        var element = "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\""
        if let dash { element += " stroke-dasharray=\"\(dash)\"" }
        return element + "/>\n"
    }

    static func text(_ content: String, x: Double, y: Double, size: Double, anchor: String,
                     weight: String = "normal") -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(fmt(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"#202020\">\(escape(content))</text>\n"
    }

    /// XML text escaping.
    static func escape(_ content: String) -> String {
        content.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
