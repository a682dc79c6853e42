/// An 8-bit RGB picture for key images, with the few drawing routines reports need:
/// an anti-aliased ellipse outline (the finding circled to scale), filled rectangles
/// (scale bars) and a 5x7 bitmap font for labels.
public struct RGBRaster: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Interleaved R, G, B; row-major, top row first. `3 * width * height` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: RGBColor = RGBColor(0, 0, 0)) {
        precondition(width > 0 && height > 0, "empty raster")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: 3 * width * height)
        if fill != RGBColor(0, 0, 0) {
            for i in 0..<(width * height) {
                p[3 * i] = fill.red
                p[3 * i + 1] = fill.green
                p[3 * i + 2] = fill.blue
            }
        }
        pixels = p
    }

    /// A gray picture from 8-bit gray levels (row-major).
    public init(width: Int, height: Int, gray: [UInt8]) {
        precondition(gray.count == width * height, "gray level count does not match size")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: 3 * width * height)
        for i in 0..<gray.count {
            p[3 * i] = gray[i]
            p[3 * i + 1] = gray[i]
            p[3 * i + 2] = gray[i]
        }
        pixels = p
    }

    public func pixel(x: Int, y: Int) -> RGBColor {
        let i = 3 * (y * width + x)
        return RGBColor(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Mixes `color` into pixel (x, y) with opacity `alpha` in [0, 1]; outside is ignored.
    @inline(__always)
    public mutating func blend(x: Int, y: Int, color: RGBColor, alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let a = min(alpha, 1)
        let i = 3 * (y * width + x)
        pixels[i] = UInt8((Double(pixels[i]) * (1 - a) + Double(color.red) * a).rounded())
        pixels[i + 1] = UInt8((Double(pixels[i + 1]) * (1 - a) + Double(color.green) * a).rounded())
        pixels[i + 2] = UInt8((Double(pixels[i + 2]) * (1 - a) + Double(color.blue) * a).rounded())
    }

    /// Outline of the axis-aligned ellipse centred at (cx, cy) with radii (rx, ry) pixels,
    /// in pixel-centre coordinates (pixel (i, j) covers [i-0.5, i+0.5]). The line is
    /// `lineWidth` pixels wide and centred on the ellipse, so the pixels at distance
    /// rx from the centre along x are fully painted. Anti-aliased by the distance of each
    /// pixel centre to the curve (first-order: |f| / |grad f| for f = (x/rx)^2 + (y/ry)^2 - 1).
    public mutating func strokeEllipse(centerX cx: Double, centerY cy: Double, radiusX rx: Double, radiusY ry: Double,
                                       lineWidth: Double, color: RGBColor) {
        // Guards Int conversions below: nothing drawable lies beyond a million pixels.
        guard rx > 0, ry > 0, rx < 1e6, ry < 1e6, abs(cx) < 1e6, abs(cy) < 1e6, lineWidth.isFinite else { return }
        let half = lineWidth / 2
        let x0 = max(0, Int((cx - rx - half - 1).rounded(.down)))
        let x1 = min(width - 1, Int((cx + rx + half + 1).rounded(.up)))
        let y0 = max(0, Int((cy - ry - half - 1).rounded(.down)))
        let y1 = min(height - 1, Int((cy + ry + half + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            let dy = Double(y) - cy
            for x in x0...x1 {
                let dx = Double(x) - cx
                let distance: Double
                if rx == ry {
                    distance = abs((dx * dx + dy * dy).squareRoot() - rx)
                } else {
                    let f = dx * dx / (rx * rx) + dy * dy / (ry * ry) - 1
                    let gx = 2 * dx / (rx * rx), gy = 2 * dy / (ry * ry)
                    let g = (gx * gx + gy * gy).squareRoot()
                    distance = g > 0 ? abs(f) / g : rx
                }
                let coverage = half + 0.5 - distance
                if coverage > 0 { blend(x: x, y: y, color: color, alpha: coverage) }
            }
        }
    }

    /// Fills the rectangle [x, x+w) x [y, y+h), clipped to the picture.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: RGBColor, alpha: Double = 1) {
        let xa = max(0, x), xb = min(width, x + w), ya = max(0, y), yb = min(height, y + h)
        guard xa < xb, ya < yb else { return }
        for yy in ya..<yb {
            for xx in xa..<xb { blend(x: xx, y: yy, color: color, alpha: alpha) }
        }
    }

    /// Draws `text` with the built-in 5x7 font, top-left at (x, y), each font pixel
    /// `scale` pixels, on a dark backing box so it reads on bright lung anatomy.
    /// Characters the font lacks are drawn as a blank.
    public mutating func drawLabel(_ text: String, x: Int, y: Int, scale: Int = 2, color: RGBColor) {
        let chars = Array(text.uppercased())
        guard !chars.isEmpty else { return }
        let advance = 6 * scale
        fillRect(x: x - scale, y: y - scale, width: chars.count * advance + scale, height: 9 * scale,
                 color: RGBColor(0, 0, 0), alpha: 0.6)
        for (n, ch) in chars.enumerated() {
            guard let rows = BitmapFont.glyphs[ch] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<5 where bits & (1 << (4 - c)) != 0 {
                    fillRect(x: x + n * advance + c * scale, y: y + r * scale, width: scale, height: scale, color: color)
                }
            }
        }
    }

    /// Width in pixels of `text` drawn by `drawLabel` at `scale`.
    public static func labelWidth(_ text: String, scale: Int = 2) -> Int { text.count * 6 * scale }
}

public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The finding outline: saturated yellow, far from any gray level of the CT.
    public static let findingOutline = RGBColor(255, 214, 0)
    public static let label = RGBColor(255, 255, 255)
    public static let orientation = RGBColor(120, 200, 255)
}

/// A 5x7 bitmap font: each glyph is 7 rows of 5 bits (most significant bit = left).
enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        "-": [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        " ": [0, 0, 0, 0, 0, 0, 0],
        "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
    ]
}
