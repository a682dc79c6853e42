import Foundation
import ImageCodecs

/// Draws FROC curves: log2 false-positive axis from 1/8 to 8 per scan (the LUNA16 range),
/// sensitivity 0-1, grid, the bootstrap band of the all-nodule curve, and markers at the seven
/// CPM rates. One layout, two outputs: a standalone SVG and a PNG (libpng via ImageCodecs).
public enum FROCPlot {
    public static let width = 760.0
    public static let height = 560.0
    static let left = 78.0, right = 24.0, top = 64.0, bottom = 72.0
    static let minimumLog2 = -3.0, maximumLog2 = 3.0
    static let allColor = PlotDrawing.Color(hex: 0x1F5FBF)
    static let largeColor = PlotDrawing.Color(hex: 0xD9731A)

    /// The SVG document for an evaluation summary.
    public static func svg(for summary: EvaluationSummary) -> String {
        drawing(for: summary).svg()
    }

    /// The same plot as PNG bytes (8-bit RGB).
    public static func png(for summary: EvaluationSummary) throws -> Data {
        try PNGCodec.encode(drawing(for: summary).raster())
    }

    static func drawing(for summary: EvaluationSummary) -> PlotDrawing {
        typealias Point = SIMD2<Double>
        var drawing = PlotDrawing(width: width, height: height)
        let white = PlotDrawing.Color(hex: 0xFFFFFF)
        drawing.elements.append(.rectangle(origin: Point(0, 0), size: Point(width, height), fill: white,
                                           fillOpacity: 1, stroke: nil, strokeWidth: 0))

        var title = "FROC"
        if let cpm = summary.froc.cpm {
            title += " \u{2014} CPM \(decimal(cpm))"
            if let ci = summary.froc.cpmCI {
                title += " (95% CI \(decimal(ci.low))\u{2013}\(decimal(ci.high)))"
            }
        }
        title += ", \(summary.froc.scans) scans"
        drawing.elements.append(.text(title, position: Point(width / 2, 30), size: 18, anchor: .middle,
                                      bold: true, vertical: false))

        // Grid and tick labels.
        let plotLeft = left, plotRight = width - right, plotTop = top, plotBottom = height - bottom
        let rateLabels = ["1/8", "1/4", "1/2", "1", "2", "4", "8"]
        for (index, rate) in FROCCurve.luna16Rates.enumerated() {
            let x = xPosition(rate)
            drawing.elements.append(.polyline(points: [Point(x, plotTop), Point(x, plotBottom)],
                                              color: .init(hex: 0xD0D0D0), width: 1, dash: nil))
            drawing.elements.append(.text(rateLabels[index], position: Point(x, plotBottom + 22), size: 14,
                                          anchor: .middle, bold: false, vertical: false))
        }
        for step in 0...10 {
            let value = Double(step) / 10
            let y = yPosition(value)
            drawing.elements.append(.polyline(points: [Point(plotLeft, y), Point(plotRight, y)],
                                              color: .init(hex: step % 5 == 0 ? 0xB8B8B8 : 0xE4E4E4), width: 1, dash: nil))
            drawing.elements.append(.text(String(format: "%.1f", value), position: Point(plotLeft - 8, y + 5), size: 13,
                                          anchor: .end, bold: false, vertical: false))
        }
        drawing.elements.append(.text("Average false positives per scan (log scale)",
                                      position: Point((plotLeft + plotRight) / 2, height - 22), size: 15,
                                      anchor: .middle, bold: false, vertical: false))
        drawing.elements.append(.text("Sensitivity", position: Point(26, (plotTop + plotBottom) / 2), size: 15,
                                      anchor: .middle, bold: false, vertical: true))

        // Bootstrap band of the all-nodule curve.
        let curve = summary.froc.curve
        if let lows = curve.ciLow, let highs = curve.ciHigh {
            var upper: [Point] = [], lower: [Point] = []
            for index in curve.falsePositivesPerScan.indices {
                guard let low = lows[index], let high = highs[index] else { continue }
                let x = xPosition(curve.falsePositivesPerScan[index])
                upper.append(Point(x, yPosition(high)))
                lower.append(Point(x, yPosition(low)))
            }
            if !upper.isEmpty {
                drawing.elements.append(.polygon(points: upper + lower.reversed(), color: allColor, opacity: 0.15))
            }
        }

        // Curves and markers.
        let series: [(label: String, color: PlotDrawing.Color, dash: (Double, Double)?, froc: EvaluationSummary.FROCSummary)] = [
            ("all nodules (\(summary.froc.nodules))", allColor, nil, summary.froc),
            ("nodules \u{2265} 6 mm (\(summary.frocNodules6MMOrLarger.nodules))", largeColor, (7, 4),
             summary.frocNodules6MMOrLarger),
        ]
        for item in series {
            guard let points = pathPoints(item.froc.points), !points.isEmpty else { continue }
            drawing.elements.append(.polyline(points: points.map { Point(xPosition($0.0), yPosition($0.1)) },
                                              color: item.color, width: 2.4, dash: item.dash))
            for rate in item.froc.sensitivities {
                guard let value = rate.sensitivity else { continue }
                drawing.elements.append(.circle(center: Point(xPosition(rate.falsePositivesPerScan), yPosition(value)),
                                                radius: 4, color: item.color))
            }
        }

        // Legend, lower right.
        let rowCount = Double(series.count + (curve.ciLow != nil ? 1 : 0))
        let legendWidth = 280.0
        let legendX = plotRight - legendWidth - 8
        var legendY = plotBottom - 20 * rowCount - 4
        drawing.elements.append(.rectangle(origin: Point(legendX - 10, legendY - 18), size: Point(legendWidth + 8, 20 * rowCount + 10),
                                           fill: white, fillOpacity: 0.9, stroke: .init(hex: 0xB0B0B0), strokeWidth: 1))
        for item in series {
            drawing.elements.append(.polyline(points: [Point(legendX, legendY - 5), Point(legendX + 30, legendY - 5)],
                                              color: item.color, width: 2.4, dash: item.dash))
            drawing.elements.append(.text(item.label, position: Point(legendX + 38, legendY), size: 13, anchor: .start,
                                          bold: false, vertical: false))
            legendY += 20
        }
        if curve.ciLow != nil {
            drawing.elements.append(.rectangle(origin: Point(legendX, legendY - 12), size: Point(30, 10), fill: allColor,
                                               fillOpacity: 0.15, stroke: nil, strokeWidth: 0))
            drawing.elements.append(.text("95% bootstrap band", position: Point(legendX + 38, legendY),
                                          size: 13, anchor: .start, bold: false, vertical: false))
        }
        // Frame last, over the band's edges.
        drawing.elements.append(.rectangle(origin: Point(plotLeft, plotTop), size: Point(plotRight - plotLeft, plotBottom - plotTop),
                                           fill: nil, fillOpacity: 1, stroke: .init(hex: 0x404040), strokeWidth: 1.2))
        return drawing
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

    static func decimal(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
