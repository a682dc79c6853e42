import Foundation
import ImageCodecs

/// A drawing as a list of primitives in pixel coordinates (y down), so one layout serves both
/// the SVG and the PNG of the FROC plot.
struct PlotDrawing {
    struct Color: Equatable {
        var red: UInt8, green: UInt8, blue: UInt8

        init(hex: UInt32) {
            red = UInt8((hex >> 16) & 0xFF)
            green = UInt8((hex >> 8) & 0xFF)
            blue = UInt8(hex & 0xFF)
        }

        var svg: String { String(format: "#%02x%02x%02x", red, green, blue) }
    }

    enum Anchor: String { case start, middle, end }

    enum Element {
        /// `dash`: on and off lengths in pixels.
        case polyline(points: [SIMD2<Double>], color: Color, width: Double, dash: (Double, Double)?)
        case polygon(points: [SIMD2<Double>], color: Color, opacity: Double)
        case circle(center: SIMD2<Double>, radius: Double, color: Color)
        case rectangle(origin: SIMD2<Double>, size: SIMD2<Double>, fill: Color?, fillOpacity: Double,
                       stroke: Color?, strokeWidth: Double)
        /// `position` is the baseline point; `vertical` turns the text 90 degrees counter-clockwise.
        case text(String, position: SIMD2<Double>, size: Double, anchor: Anchor, bold: Bool, vertical: Bool)
    }

    var width: Double
    var height: Double
    var elements: [Element] = []

    // MARK: SVG

    func svg() -> String {
        func f(_ value: Double) -> String { String(format: "%.2f", value) }
        func points(_ list: [SIMD2<Double>]) -> String { list.map { "\(f($0.x)),\(f($0.y))" }.joined(separator: " ") }
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">

        """
        for element in elements {
            switch element {
            case let .polyline(list, color, lineWidth, dash):
                out += "<polyline points=\"\(points(list))\" fill=\"none\" stroke=\"\(color.svg)\" stroke-width=\"\(f(lineWidth))\""
                if let dash { out += " stroke-dasharray=\"\(f(dash.0)) \(f(dash.1))\"" }
                out += "/>\n"
            case let .polygon(list, color, opacity):
                out += "<polygon points=\"\(points(list))\" fill=\"\(color.svg)\" fill-opacity=\"\(f(opacity))\" stroke=\"none\"/>\n"
            case let .circle(center, radius, color):
                out += "<circle cx=\"\(f(center.x))\" cy=\"\(f(center.y))\" r=\"\(f(radius))\" fill=\"\(color.svg)\"/>\n"
            case let .rectangle(origin, size, fill, fillOpacity, stroke, strokeWidth):
                out += "<rect x=\"\(f(origin.x))\" y=\"\(f(origin.y))\" width=\"\(f(size.x))\" height=\"\(f(size.y))\""
                out += " fill=\"\(fill?.svg ?? "none")\""
                if fill != nil, fillOpacity < 1 { out += " fill-opacity=\"\(f(fillOpacity))\"" }
                if let stroke { out += " stroke=\"\(stroke.svg)\" stroke-width=\"\(f(strokeWidth))\"" }
                out += "/>\n"
            case let .text(content, position, size, anchor, bold, vertical):
                out += "<text x=\"\(f(position.x))\" y=\"\(f(position.y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor.rawValue)\""
                if bold { out += " font-weight=\"bold\"" }
                if vertical { out += " transform=\"rotate(-90 \(f(position.x)) \(f(position.y)))\"" }
                out += " fill=\"#202020\">\(escapeXML(content))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    func escapeXML(_ content: String) -> String {
        content.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: Raster

    /// Rasterises the drawing on white: anti-aliased lines and dots (coverage from the distance
    /// to the shape), polygons filled by scanline at pixel centres, text from a 5x7 bitmap font.
    func raster() -> RGBImage {
        var canvas = RasterCanvas(width: Int(width.rounded()), height: Int(height.rounded()))
        for element in elements {
            switch element {
            case let .polyline(list, color, lineWidth, dash):
                canvas.strokePolyline(list, color: color, width: lineWidth, dash: dash)
            case let .polygon(list, color, opacity):
                canvas.fillPolygon(list, color: color, opacity: opacity)
            case let .circle(center, radius, color):
                canvas.fillCircle(center: center, radius: radius, color: color)
            case let .rectangle(origin, size, fill, fillOpacity, stroke, strokeWidth):
                if let fill {
                    canvas.fillPolygon([origin, origin + SIMD2(size.x, 0), origin + size, origin + SIMD2(0, size.y)],
                                       color: fill, opacity: fillOpacity)
                }
                if let stroke {
                    let corners = [origin, origin + SIMD2(size.x, 0), origin + size, origin + SIMD2(0, size.y), origin]
                    canvas.strokePolyline(corners, color: stroke, width: strokeWidth, dash: nil)
                }
            case let .text(content, position, size, anchor, bold, vertical):
                canvas.drawText(content, at: position, size: size, anchor: anchor, bold: bold, vertical: vertical)
            }
        }
        return RGBImage(width: canvas.width, height: canvas.height, rgb: canvas.pixels)
    }
}

/// An RGB pixel buffer with the few drawing operations the plot needs.
struct RasterCanvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    mutating func blend(x: Int, y: Int, color: PlotDrawing.Color, alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let a = min(alpha, 1)
        let index = (y * width + x) * 3
        pixels[index] = UInt8((Double(pixels[index]) * (1 - a) + Double(color.red) * a).rounded())
        pixels[index + 1] = UInt8((Double(pixels[index + 1]) * (1 - a) + Double(color.green) * a).rounded())
        pixels[index + 2] = UInt8((Double(pixels[index + 2]) * (1 - a) + Double(color.blue) * a).rounded())
    }

    /// Each pixel takes the largest coverage of any segment near it, so joints are not darkened
    /// twice; dashes follow the arc length along the whole polyline.
    mutating func strokePolyline(_ points: [SIMD2<Double>], color: PlotDrawing.Color, width lineWidth: Double,
                                 dash: (Double, Double)?) {
        guard points.count >= 2 else { return }
        let half = lineWidth / 2
        var coverage: [Int: Double] = [:]
        var arcStart = 0.0
        for index in 1..<points.count {
            let a = points[index - 1], b = points[index]
            let delta = b - a
            let length = (delta * delta).sum().squareRoot()
            let minX = max(0, Int((min(a.x, b.x) - half - 1).rounded(.down)))
            let maxX = min(width - 1, Int((max(a.x, b.x) + half + 1).rounded(.up)))
            let minY = max(0, Int((min(a.y, b.y) - half - 1).rounded(.down)))
            let maxY = min(height - 1, Int((max(a.y, b.y) + half + 1).rounded(.up)))
            if minX <= maxX, minY <= maxY {
                for y in minY...maxY {
                    for x in minX...maxX {
                        let p = SIMD2(Double(x) + 0.5, Double(y) + 0.5)
                        var t = 0.0
                        if length > 0 { t = min(max(((p - a) * delta).sum() / (length * length), 0), 1) }
                        let nearest = a + t * delta
                        let distance = ((p - nearest) * (p - nearest)).sum().squareRoot()
                        let cover = min(max(half + 0.5 - distance, 0), 1)
                        guard cover > 0 else { continue }
                        if let dash {
                            let along = (arcStart + t * length).truncatingRemainder(dividingBy: dash.0 + dash.1)
                            if along > dash.0 { continue }
                        }
                        let key = y * width + x
                        coverage[key] = max(coverage[key] ?? 0, cover)
                    }
                }
            }
            arcStart += length
        }
        for (key, cover) in coverage {
            blend(x: key % width, y: key / width, color: color, alpha: cover)
        }
    }

    /// Even-odd fill sampled at pixel centres.
    mutating func fillPolygon(_ points: [SIMD2<Double>], color: PlotDrawing.Color, opacity: Double) {
        guard points.count >= 3 else { return }
        let minY = max(0, Int(points.map(\.y).min()!.rounded(.down)))
        let maxY = min(height - 1, Int(points.map(\.y).max()!.rounded(.up)))
        guard minY <= maxY else { return }
        for y in minY...maxY {
            let centerY = Double(y) + 0.5
            var crossings: [Double] = []
            for index in points.indices {
                let a = points[index], b = points[(index + 1) % points.count]
                if (a.y <= centerY) != (b.y <= centerY) {
                    crossings.append(a.x + (centerY - a.y) / (b.y - a.y) * (b.x - a.x))
                }
            }
            crossings.sort()
            var pair = 0
            while pair + 1 < crossings.count {
                let start = max(0, Int((crossings[pair] - 0.5).rounded(.up)))
                let end = min(width - 1, Int((crossings[pair + 1] - 0.5).rounded(.down)))
                if start <= end {
                    for x in start...end { blend(x: x, y: y, color: color, alpha: opacity) }
                }
                pair += 2
            }
        }
    }

    mutating func fillCircle(center: SIMD2<Double>, radius: Double, color: PlotDrawing.Color) {
        let minX = max(0, Int(center.x - radius - 1)), maxX = min(width - 1, Int(center.x + radius + 1))
        let minY = max(0, Int(center.y - radius - 1)), maxY = min(height - 1, Int(center.y + radius + 1))
        guard minX <= maxX, minY <= maxY else { return }
        for y in minY...maxY {
            for x in minX...maxX {
                let d = SIMD2(Double(x) + 0.5, Double(y) + 0.5) - center
                let distance = (d * d).sum().squareRoot()
                blend(x: x, y: y, color: color, alpha: min(max(radius + 0.5 - distance, 0), 1))
            }
        }
    }

    /// Text from `BitmapFont`, doubled for any size from 11 px up (a 14 px cap height; larger
    /// scales make a monospaced title too wide for the plot).
    mutating func drawText(_ content: String, at position: SIMD2<Double>, size: Double,
                           anchor: PlotDrawing.Anchor, bold: Bool, vertical: Bool) {
        let scale = size >= 11 ? 2 : 1
        let glyphs = content.map(BitmapFont.glyph)
        let advance = (BitmapFont.width + 1) * scale
        let textWidth = glyphs.count * advance - scale + (bold ? 1 : 0)
        let shift: Int
        switch anchor {
        case .start: shift = 0
        case .middle: shift = textWidth / 2
        case .end: shift = textWidth
        }
        let textColor = PlotDrawing.Color(hex: 0x202020)
        let baseX = Int(position.x.rounded()), baseY = Int(position.y.rounded())
        for (index, glyph) in glyphs.enumerated() {
            for row in 0..<BitmapFont.height {
                for column in 0..<BitmapFont.width where glyph[row][column] {
                    for dy in 0..<scale {
                        for dx in 0..<(scale + (bold ? 1 : 0)) {
                            // Along the text (u) and down from the cap line (v), in pixels.
                            let u = index * advance + column * scale + dx - shift
                            let v = (row - BitmapFont.ascent) * scale + dy
                            if vertical {
                                blend(x: baseX + v, y: baseY - u, color: textColor, alpha: 1)
                            } else {
                                blend(x: baseX + u, y: baseY + v, color: textColor, alpha: 1)
                            }
                        }
                    }
                }
            }
        }
    }
}
