import Foundation

/// What `triage phantom` makes. Everything not fixed here is drawn per case from the seed.
public struct PhantomOptions: Sendable, Codable, Equatable {
    /// Matrix size (columns = rows), e.g. 512 at full size, 128 for tests.
    public var size: Int = 512
    /// Number of slices.
    public var slices: Int = 300
    /// In-plane pixel spacing (mm); nil: fitted to the body (0.6-0.977 mm at 512, scaled by 512/size).
    public var pixelSpacingMM: Double? = nil
    /// Slice spacing (mm); nil: chosen so the scan covers the lungs (0.625-2.5 mm at 300 slices).
    public var sliceSpacingMM: Double? = nil
    /// Fraction of cases with no nodule.
    public var cleanFraction: Double = 0.25
    /// Nodules per case with nodules (inclusive range).
    public var minNodules: Int = 1
    public var maxNodules: Int = 4
    /// Nodule diameter range (mm).
    public var minDiameterMM: Double = 3
    public var maxDiameterMM: Double = 30
    /// Terminal territories per lung per vessel tree (density of the vessel trees);
    /// nil: about 4500 at full size, fewer for small matrices.
    public var vesselTerritories: Int? = nil
    /// Multiplies the terminal territories of every vessel tree while each branch keeps the
    /// calibre it has at density 1 for the lung it supplies: more fine peripheral vessels, the
    /// same hilar and segmental ones (docs/phantoms.md, "Peripheral vessel density"). nil or
    /// 1: the trees of earlier runs of the seed. 1...3.
    public var vesselDensity: Double? = nil
    /// Vessel tree revision: nil or 1 (the trees of the training and evaluation scans), or 2:
    /// forks turn at most by Murray's optimal angles (the main path runs on nearly straight),
    /// the periphery tapers less, and the last territories of a branch leave a tapering stem
    /// as spaced, curving side branches instead of fans of straight twigs (docs/phantoms.md,
    /// "Vessel tree revision 2"). 3: revision 2, with those side branches bending away from
    /// the hilum, and four pulmonary veins (a superior and an inferior per lung) whose trees
    /// keep clear of the arteries ("Vessel tree revision 3").
    public var vesselTreeRevision: Int? = nil
    /// Fraction of cases with emphysema (centrilobular, upper-zone predominant, and in half of
    /// them paraseptal along the pleura), at a severity drawn per case; nil or 0: none, and
    /// the scans are those of earlier generator-3 runs of the seed.
    public var emphysemaFraction: Double? = nil
    /// Fraction of cases with dependent (subpleural, posterior, lower-zone) atelectasis at a
    /// severity drawn per case; nil or 0: none, and the scans are those of earlier runs.
    public var atelectasisFraction: Double? = nil
    /// Fraction of cases with a pleural effusion (right, left or both; a dependent crescent
    /// of fluid with compressed lung along it); nil or 0: none, and the scans are unchanged.
    public var effusionFraction: Double? = nil
    /// Fraction of cases with a lobar consolidation (airless lung with air bronchograms, cut
    /// by a fissure); nil or 0: none, and the scans are unchanged.
    public var consolidationFraction: Double? = nil
    /// Fraction of cases with multifocal ground-glass opacities (3-8 peripheral patches in
    /// both lungs, some with crazy paving, as in viral pneumonia); nil or 0: none, and the
    /// scans are unchanged.
    public var groundGlassFraction: Double? = nil
    /// Fraction of cases with a breathing artefact (a band of slices showing the anatomy
    /// displaced 3-10 mm cranio-caudally, clear of the nodules); nil or 0: none.
    public var motionFraction: Double? = nil
    /// Fraction of cases with a cardiac pulsation artefact (the heart border and the lung
    /// beside it shown at two phases of the heartbeat: doubled vessels in the lingula and left
    /// lower lobe, steps along the heart in coronal views); nil or 0: none, and the scans are
    /// unchanged.
    public var cardiacMotionFraction: Double? = nil
    /// Fraction of cases with photon-starvation streaks (fine, nearly horizontal dark and
    /// bright lines, strongest at the shoulders and lung apices); nil or 0: none.
    public var streakFraction: Double? = nil
    /// Fraction of cases with beam-hardening artefacts from bone and iodine (dark bands
    /// between dense structures, cupping inside thick bone; `BeamHardening`); nil or 0: none,
    /// and the scans are unchanged.
    public var beamHardeningFraction: Double? = nil
    /// Fraction of cases with a cardiac pacemaker (generator under the clavicle, leads down
    /// the superior vena cava into the right heart; a third also with sternotomy wires) and
    /// its metal streaks; nil or 0: none.
    public var metalFraction: Double? = nil
    /// Fraction of cases with 1-4 calcified granulomas (small, completely calcified, benign
    /// lung nodules; truth.json's `calcified_granulomas`, not its `nodules`); nil or 0: none.
    public var granulomaFraction: Double? = nil
    /// Coronary arteries in every case (in the heart's grooves, in fat), with calcified plaque
    /// in this fraction of the cases; nil or 0: neither.
    public var coronaryCalciumFraction: Double? = nil
    /// Fraction of cases with calcified plaque in the wall of the thoracic aorta (truth.json's
    /// `aortic_calcified_plaques`); nil or 0: none.
    public var aorticCalciumFraction: Double? = nil
    /// Fraction of cases with 1-3 parenchymal bands (linear scars reaching the costal pleura;
    /// truth.json's `parenchymal_bands`, not nodules); nil or 0: none.
    public var scarFraction: Double? = nil
    /// Fraction of cases with cylindrical bronchiectasis of one lower lobe (widened,
    /// thick-walled bronchi that taper less; truth.json's `bronchiectasis`); nil or 0: none.
    public var bronchiectasisFraction: Double? = nil
    /// Fraction of the bronchiectasis cases whose widened bronchi hold mucus plugs (2-4
    /// impacted branches filled to their tips with mucus of soft-tissue density;
    /// `bronchiectasis.mucus_plugs` in truth.json); nil or 0: none. Needs
    /// `bronchiectasisFraction`.
    public var mucusPlugFraction: Double? = nil
    /// Fraction of the cases with bronchiectasis whose widened bronchi end in cysts (cystic
    /// bronchiectasis; some filled with fluid, a nodule mimic; truth.json's
    /// `bronchiectasis.cysts`); needs `bronchiectasisFraction`. nil or 0: none.
    public var bronchialCystFraction: Double? = nil
    /// Fraction of cases with fibrotic interstitial lung disease (subpleural, basal
    /// reticulation, in half of them with honeycombing; truth.json's `interstitial_fibrosis`);
    /// nil or 0: none.
    public var fibrosisFraction: Double? = nil
    /// Fraction of the fibrosis cases whose bronchi in the fibrotic zone are pulled open
    /// (traction bronchiectasis: widened irregularly, reaching the subpleural lung;
    /// truth.json's `interstitial_fibrosis.traction_bronchiectasis`); needs `fibrosisFraction`.
    /// nil or 0: none.
    public var tractionBronchiectasisFraction: Double? = nil
    /// Fraction of cases with 2-8 pleural plaques (flat thickenings of the parietal pleura on
    /// the chest wall and the domes, calcified in 30 %; truth.json's `pleural_plaques`, not
    /// nodules, and outside the lungs); nil or 0: none.
    public var pleuralPlaqueFraction: Double? = nil
    /// Fraction of cases with a calcified aortic valve (clumps of calcium in 1-3 cusps;
    /// truth.json's `aortic_valve_calcifications`, in the heart, not nodules); nil or 0: none.
    public var valveCalciumFraction: Double? = nil
    /// Fraction of cases with mitral annular calcification (a dense C-shaped band along the
    /// posterior mitral annulus, deep in the heart; truth.json's
    /// `mitral_annular_calcifications`, not nodules); nil or 0: none.
    public var mitralCalciumFraction: Double? = nil
    /// Fraction of cases with pericardial fat pads at the cardiophrenic angles (the right
    /// one always, the left in half of them; `CardiophrenicFatPad`); nil or 0: none, and the
    /// scans are those of earlier runs of the seed.
    public var cardiophrenicFatFraction: Double? = nil
    /// Fraction of the juxtapleural nodules moved to the mediastinal pleura (location
    /// `juxtamediastinal`: touching the mediastinum, the heart or the side of the hilum,
    /// where a detector must tell a nodule from the edge of a trunk); nil or 0: none, and the
    /// scans are unchanged. The other nodules stay where they were.
    public var mediastinalNoduleFraction: Double? = nil
    /// Anatomy revision: nil or 3 (the anatomy of the training and evaluation scans) or 4 (the
    /// heart rests on the diaphragm with its apex tilted down and to the left, the mediastinum
    /// is the great vessels in their fat instead of a straight-sided band, and the chest is as
    /// shallow as an adult's: Haller index about 2.2-2.4). Revision 3 stays the default until
    /// the detector is trained on revision 4: the committed models and evaluation figures are
    /// reproducible only with the anatomy they were made from.
    public var anatomyRevision: Int? = nil
    /// Storage: nil = random per case.
    public var signedPixels: Bool? = nil
    public var rescaleIntercept: Double? = nil
    public var implicitVR: Bool? = nil
    public var paddingOutsideFOV: Bool? = nil
    /// Also write each case as a 16-bit PNG series with a series.json sidecar.
    public var pngCopies: Bool = false
    /// Also write each case as an 8-bit gray JPEG series (lung window) with a series.json sidecar.
    public var jpegCopies: Bool = false

    public init() {}

    /// Checks ranges; the message names the option.
    public func validate() throws {
        func fail(_ m: String) -> PhantomError { PhantomError(message: m) }
        guard (16...2048).contains(size) else { throw fail("--size must be 16...2048, got \(size)") }
        guard (1...2000).contains(slices) else { throw fail("--slices must be 1...2000, got \(slices)") }
        if let p = pixelSpacingMM, !(p > 0.05 && p < 20) { throw fail("--pixel-spacing must be in (0.05, 20) mm") }
        if let s = sliceSpacingMM, !(s > 0.05 && s < 20) { throw fail("--slice-spacing must be in (0.05, 20) mm") }
        guard (0...1).contains(cleanFraction) else { throw fail("--clean-fraction must be in [0, 1]") }
        if let d = vesselDensity, !(d >= 1 && d <= 3) { throw fail("--vessel-density must be in [1, 3], got \(d)") }
        if let r = vesselTreeRevision, !(1...3).contains(r) { throw fail("--vessel-trees must be 1, 2 or 3, got \(r)") }
        if let e = emphysemaFraction, !(0...1).contains(e) { throw fail("--emphysema-fraction must be in [0, 1]") }
        if let a = atelectasisFraction, !(0...1).contains(a) { throw fail("--atelectasis-fraction must be in [0, 1]") }
        if let e = effusionFraction, !(0...1).contains(e) { throw fail("--effusion-fraction must be in [0, 1]") }
        if let c = consolidationFraction, !(0...1).contains(c) { throw fail("--consolidation-fraction must be in [0, 1]") }
        if let g = groundGlassFraction, !(0...1).contains(g) { throw fail("--ground-glass-fraction must be in [0, 1]") }
        if let s = streakFraction, !(0...1).contains(s) { throw fail("--streak-fraction must be in [0, 1]") }
        if let b = beamHardeningFraction, !(0...1).contains(b) { throw fail("--beam-hardening-fraction must be in [0, 1]") }
        if let m = metalFraction, !(0...1).contains(m) { throw fail("--metal-fraction must be in [0, 1]") }
        if let g = granulomaFraction, !(0...1).contains(g) { throw fail("--granuloma-fraction must be in [0, 1]") }
        if let c = coronaryCalciumFraction, !(0...1).contains(c) { throw fail("--coronary-calcium-fraction must be in [0, 1]") }
        if let c = aorticCalciumFraction, !(0...1).contains(c) { throw fail("--aortic-calcium-fraction must be in [0, 1]") }
        if let b = bronchiectasisFraction, !(0...1).contains(b) { throw fail("--bronchiectasis-fraction must be in [0, 1]") }
        if let s = scarFraction, !(0...1).contains(s) { throw fail("--scar-fraction must be in [0, 1]") }
        if let f = fibrosisFraction, !(0...1).contains(f) { throw fail("--fibrosis-fraction must be in [0, 1]") }
        if let f = pleuralPlaqueFraction, !(0...1).contains(f) { throw fail("--pleural-plaque-fraction must be in [0, 1]") }
        if let f = valveCalciumFraction, !(0...1).contains(f) { throw fail("--valve-calcium-fraction must be in [0, 1]") }
        if let f = mitralCalciumFraction, !(0...1).contains(f) { throw fail("--mitral-calcium-fraction must be in [0, 1]") }
        if let f = cardiophrenicFatFraction, !(0...1).contains(f) { throw fail("--cardiophrenic-fat-fraction must be in [0, 1]") }
        if let m = mucusPlugFraction {
            if !(0...1).contains(m) { throw fail("--mucus-plug-fraction must be in [0, 1]") }
            if m > 0 && (bronchiectasisFraction ?? 0) == 0 {
                throw fail("--mucus-plug-fraction plugs widened bronchi: it needs --bronchiectasis-fraction")
            }
        }
        if let c = bronchialCystFraction {
            if !(0...1).contains(c) { throw fail("--bronchial-cyst-fraction must be in [0, 1]") }
            if c > 0 && (bronchiectasisFraction ?? 0) == 0 {
                throw fail("--bronchial-cyst-fraction ends widened bronchi in cysts: it needs --bronchiectasis-fraction")
            }
        }
        if let t = tractionBronchiectasisFraction {
            if !(0...1).contains(t) { throw fail("--traction-bronchiectasis-fraction must be in [0, 1]") }
            if t > 0 && (fibrosisFraction ?? 0) == 0 {
                throw fail("--traction-bronchiectasis-fraction widens bronchi in fibrotic lung: it needs --fibrosis-fraction")
            }
        }
        if let m = mediastinalNoduleFraction, !(0...1).contains(m) { throw fail("--mediastinal-nodule-fraction must be in [0, 1]") }
        if let a = anatomyRevision, a != 3, a != 4 { throw fail("--anatomy must be 3 or 4, got \(a)") }
        if let m = motionFraction, !(0...1).contains(m) { throw fail("--motion-fraction must be in [0, 1]") }
        if let m = cardiacMotionFraction, !(0...1).contains(m) { throw fail("--cardiac-motion-fraction must be in [0, 1]") }
        guard minNodules >= 0, maxNodules >= minNodules, maxNodules <= 20 else { throw fail("nodule count range invalid") }
        guard minDiameterMM >= 1, maxDiameterMM >= minDiameterMM, maxDiameterMM <= 40 else {
            throw fail("nodule diameter range must lie in 1...40 mm")
        }
        if let i = rescaleIntercept, i != 0, i != -1024 { throw fail("--intercept must be 0 or -1024") }
        if signedPixels == false, rescaleIntercept == 0 { throw fail("unsigned pixels need intercept -1024") }
    }
}

/// A phantom generation failure with a readable message.
public struct PhantomError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
