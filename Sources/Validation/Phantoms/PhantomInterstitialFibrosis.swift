import Foundation

/// Fibrotic interstitial lung disease (`PhantomOptions.fibrosisFraction`) in the usual
/// interstitial pneumonia (UIP) pattern of idiopathic pulmonary fibrosis and of the
/// interstitial lung abnormalities found in several percent of screened smokers: reticulation
/// (a network of thickened interlobular septa and finer intralobular lines) that is
/// subpleural and basal-predominant, with a ground-glass background and, in advanced
/// disease, honeycombing (clustered subpleural air cysts of 3-10 mm with thick walls,
/// stacked along the pleura). Fleischner Society white paper (Lynch et al., Lancet Respir
/// Med 2018;6:138-153) and glossary (Hansell et al., Radiology 2008;246:697-722).
///
/// Why the generator draws it: septa meeting at a corner, a cyst wall cut obliquely and
/// the walls between honeycomb cysts are small bright dots and blobs against the pleura,
/// where juxtapleural nodules are; and the reticulation makes the lung's background denser
/// and rougher than the clean parenchyma the detector was trained on.
///
/// Geometry: a Voronoi (cellular) network in 3D, whose cell walls are the septa: cells of
/// `lobuleMM` (9-13 mm, secondary pulmonary lobules) with walls 0.8-1.2 mm thick, and cells
/// of 3.5 mm with fainter 0.35 mm walls for the intralobular lines; both fade in from
/// `maximumDepthMM` (11-18 mm, times a weight that is 1 at the lung base laterally and
/// posteriorly, falls off to 0 at mid-height and spares the medial side) to the pleura. With
/// honeycombing, cells of `cystMM` (4-7 mm) within `honeycombDepthMM` (3.6-6 mm, times the
/// weight) of the pleura are air with 1 mm walls: one or two rows of cysts.
/// Its own random stream; the rest of the case is the same with or without it.
public struct InterstitialFibrosis: Sendable, Equatable {
    /// 0.4-1: reach, septal thickness and ground-glass background grow with it.
    public var severity: Double
    public var honeycombing: Bool
    /// Cell size (mm) of the septal network.
    public var lobuleMM: Double
    /// Cell size (mm) of the honeycomb cysts.
    public var cystMM: Double
    /// Seed of the cellular networks.
    var textureSeed: UInt64

    /// Deepest reach (mm from the pleura) of the reticulation where the disease is strongest.
    public var maximumDepthMM: Double { 6 + 12 * severity }
    /// Depth (mm from the pleura) of the honeycomb layer where the disease is strongest; 0
    /// without honeycombing.
    public var honeycombDepthMM: Double { honeycombing ? 2 + 4 * severity : 0 }
    /// Septal wall thickness (mm).
    var septalThicknessMM: Double { 0.5 + 0.7 * severity }

    static func draw(random r: inout PhantomRandom) -> InterstitialFibrosis {
        let severity = r.uniform(0.4, 1)
        let honeycombing = r.chance(0.5)
        return InterstitialFibrosis(severity: severity, honeycombing: honeycombing, lobuleMM: r.uniform(9, 13),
                                    cystMM: r.uniform(4, 7), textureSeed: r.next())
    }

    /// How strongly a place is affected (0-1): basal, and peripheral (lateral or posterior,
    /// sparing the lung's medial side along the mediastinum). `heightFraction` is the height
    /// in the lung (0 at the base, 1 at the apex), `lateral` -1 at the medial and 1 at the
    /// lateral edge of the lung's section, `posterior` 0 at its front and 1 at its back.
    static func weight(heightFraction: Double, lateral: Double, posterior: Double) -> Double {
        let lower = 1 - Scene.smooth((heightFraction - 0.1) / 0.4)
        let periphery = Swift.max(Scene.smooth((lateral + 0.1) / 0.6), Scene.smooth((posterior - 0.45) / 0.4))
        return lower * periphery
    }

    /// Approximate distance (in cell units) from (x, y, z) to the nearest wall of a 3D
    /// Voronoi tessellation with one jittered site per unit cell: half the difference of the
    /// distances to the nearest and second-nearest sites (Worley 1996, "A cellular texture
    /// basis function"). No allocation; 27 cells examined.
    @inline(__always)
    static func cellWallDistance(_ x: Double, _ y: Double, _ z: Double, seed: UInt64) -> Double {
        let fx = x.rounded(.down), fy = y.rounded(.down), fz = z.rounded(.down)
        let ix = Int64(fx), iy = Int64(fy), iz = Int64(fz)
        var d1 = Double.infinity, d2 = Double.infinity
        for k in -1...1 {
            for j in -1...1 {
                for i in -1...1 {
                    let cx = ix + Int64(i), cy = iy + Int64(j), cz = iz + Int64(k)
                    let v = Scene.latticeHash(cx, cy, cz, seed: seed)
                    // Three jitters in [0.1, 0.9) from 21 bits each.
                    let jx = 0.1 + 0.8 * Double(v & 0x1F_FFFF) / 2_097_152
                    let jy = 0.1 + 0.8 * Double((v >> 21) & 0x1F_FFFF) / 2_097_152
                    let jz = 0.1 + 0.8 * Double((v >> 42) & 0x1F_FFFF) / 2_097_152
                    let dx = Double(cx) + jx - x, dy = Double(cy) + jy - y, dz = Double(cz) + jz - z
                    let d = (dx * dx + dy * dy + dz * dz).squareRoot()
                    if d < d1 { d2 = d1; d1 = d } else if d < d2 { d2 = d }
                }
            }
        }
        return 0.5 * (d2 - d1)
    }
}
