import Foundation

/// Cylindrical bronchiectasis of one lower lobe (`PhantomOptions.bronchiectasisFraction`):
/// irreversibly widened bronchi after infection or with chronic airway disease, common in
/// older smokers. The Fleischner Society glossary (Hansell et al., Radiology
/// 2008;246:697-722): "bronchial dilatation with respect to the accompanying pulmonary
/// artery, lack of tapering of bronchi, and identification of bronchi within 1 cm of the
/// pleural surface"; the wall is often thickened.
///
/// Why the generator draws it: a widened bronchus cut across beside its artery is the
/// "signet ring" (a ring of wall with a dot beside it); thick walls cut obliquely or at a
/// branching, and the arteries beside the widened lumens, are nodule-like blobs; and the
/// bronchi come nearer the pleura than normal ones.
///
/// Geometry: in the chosen lobe every bronchus of the tree (which runs beside its artery,
/// `PhantomCase`) gets a lumen of `dilation` (1.3-1.8) times the normal one (normal: 0.8 of
/// the artery's radius, so the bronchoarterial ratio becomes 1.0-1.45, mild cylindrical
/// bronchiectasis, the commonest form), and the normal one is taken as at least `taper`
/// (0.75-0.85) of its parent's normal lumen, so the bronchi taper less and stay visible
/// (lumen radius >= 1 mm) further out; the wall is `wallThickening` (1.4-2) times as thick.
/// Nothing else of the case changes (its own random stream; nodules are placed without
/// regard to the airways).
public struct Bronchiectasis: Sendable, Equatable {
    /// Lung (0 right, 1 left) and lobe (`ChestAnatomy.lobe`: right 2, left 1, the lower lobes).
    public var side: Int
    public var lobe: Int
    public var dilation: Double
    public var taper: Double
    public var wallThickening: Double

    /// Whether a bronchus whose node lies in `lobe` of lung `side` is widened.
    func affects(side: Int, lobe: Int) -> Bool { side == self.side && lobe == self.lobe }

    static func draw(random r: inout PhantomRandom) -> Bronchiectasis {
        let side = r.int(0...1)
        return Bronchiectasis(side: side, lobe: side == 0 ? 2 : 1, dilation: r.uniform(1.3, 1.8),
                              taper: r.uniform(0.75, 0.85), wallThickening: r.uniform(1.4, 2))
    }
}
