import ArgumentParser
import Foundation
import Phantoms

/// `triage phantom OUTDIR --cases N --seed S`: synthetic chest CT series with known nodules.
struct PhantomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phantom",
        abstract: "Write synthetic chest CT series with known nodules and their truth.json.",
        discussion: """
        Seeds 1000-1999 are for development (tuning, training); 9000-9099 for evaluation only.
        The same seed and options always give the same scans. See docs/phantoms.md.
        """)

    @Argument(help: "Output folder (created if missing).")
    var outputDirectory: String

    @Option(help: "Number of cases.") var cases: Int = 1
    @Option(help: "Seed (deterministic output).") var seed: UInt64 = 1000
    @Option(help: "Matrix size (columns = rows).") var size: Int = 512
    @Option(help: "Number of slices.") var slices: Int = 300
    @Option(name: .customLong("pixel-spacing"), help: "In-plane spacing in mm (default: fitted to the body, 0.6-0.9 mm x 512/size).")
    var pixelSpacing: Double?
    @Option(name: .customLong("slice-spacing"), help: "Slice spacing in mm (default: chosen to cover the lungs).")
    var sliceSpacing: Double?
    @Option(name: .customLong("clean-fraction"), help: "Fraction of cases without nodules.")
    var cleanFraction: Double = 0.25
    @Option(name: .customLong("max-nodules"), help: "Most nodules in one case.") var maxNodules: Int = 4
    @Option(name: .customLong("min-diameter"), help: "Smallest nodule diameter, mm.") var minDiameter: Double = 3
    @Option(name: .customLong("max-diameter"), help: "Largest nodule diameter, mm.") var maxDiameter: Double = 30
    @Option(name: .customLong("vessel-territories"), help: "Terminal branches per vessel tree per lung.")
    var vesselTerritories: Int?
    @Option(name: .customLong("vessel-density"),
            help: "Multiplies the fine peripheral vessels (terminal territories) of every vessel tree, keeping the calibre of hilar and segmental vessels: 1-3; default 1 (the training and evaluation scans). 2 comes closer to the real slices' vessels per area (docs/phantoms.md).")
    var vesselDensity: Double?
    @Option(name: .customLong("vessel-trees"),
            help: "Vessel tree revision: 1 (default; the training and evaluation scans), 2 (forks at Murray's angles, spaced side branches instead of twig fans at the periphery) or 3 (2, with those side branches bending outward and four pulmonary veins running between the arteries); docs/phantoms.md.")
    var vesselTreeRevision: Int?
    @Option(name: .customLong("emphysema-fraction"),
            help: "Fraction of cases with emphysema (centrilobular, and in half of them paraseptal); default none.")
    var emphysemaFraction: Double?
    @Option(name: .customLong("atelectasis-fraction"),
            help: "Fraction of cases with dependent atelectasis (posterior basal subpleural bands); default none.")
    var atelectasisFraction: Double?
    @Option(name: .customLong("effusion-fraction"),
            help: "Fraction of cases with a pleural effusion (dependent fluid, compressed lung along it); default none.")
    var effusionFraction: Double?
    @Option(name: .customLong("consolidation-fraction"),
            help: "Fraction of cases with a lobar consolidation (air bronchograms, cut by a fissure); default none.")
    var consolidationFraction: Double?
    @Option(name: .customLong("ground-glass-fraction"),
            help: "Fraction of cases with multifocal ground-glass opacities (peripheral patches in both lungs, some with crazy paving); default none.")
    var groundGlassFraction: Double?
    @Option(name: .customLong("motion-fraction"),
            help: "Fraction of cases with a breathing artefact (a band of slices displaced 3-10 mm); default none.")
    var motionFraction: Double?
    @Option(name: .customLong("streak-fraction"),
            help: "Fraction of cases with photon-starvation streaks (shoulders and lung apices); default none.")
    var streakFraction: Double?
    @Option(name: .customLong("beam-hardening-fraction"),
            help: "Fraction of cases with beam-hardening artefacts (dark bands between bones and between contrast and bone, cupping in thick bone); default none.")
    var beamHardeningFraction: Double?
    @Option(name: .customLong("metal-fraction"),
            help: "Fraction of cases with a cardiac pacemaker (generator and leads; a third also with sternal wires) and its metal streaks; default none.")
    var metalFraction: Double?
    @Option(name: .customLong("granuloma-fraction"),
            help: "Fraction of cases with 1-4 calcified granulomas (benign, completely calcified lung nodules of 2.5-7 mm; in truth.json's calcified_granulomas, not its nodules); default none.")
    var granulomaFraction: Double?
    @Option(name: .customLong("coronary-calcium-fraction"),
            help: "Draw the coronary arteries in every case, with calcified plaque in this fraction of the cases; default neither.")
    var coronaryCalciumFraction: Double?
    @Option(name: .customLong("aortic-calcium-fraction"),
            help: "Fraction of cases with calcified plaque in the wall of the thoracic aorta (in truth.json's aortic_calcified_plaques); default none.")
    var aorticCalciumFraction: Double?
    @Option(name: .customLong("scar-fraction"),
            help: "Fraction of cases with 1-3 parenchymal bands (linear scars, 1-3 mm thick, 15-45 mm long, reaching the costal pleura; in truth.json's parenchymal_bands, not its nodules); default none.")
    var scarFraction: Double?
    @Option(name: .customLong("bronchiectasis-fraction"),
            help: "Fraction of cases with cylindrical bronchiectasis of one lower lobe (widened, thick-walled bronchi that taper less; in truth.json's bronchiectasis); default none.")
    var bronchiectasisFraction: Double?
    @Option(name: .customLong("mucus-plug-fraction"),
            help: "Fraction of the bronchiectasis cases with 2-4 mucus-plugged branches (widened bronchi filled to their tips with mucus, branching soft-tissue opacities; in truth.json's bronchiectasis.mucus_plugs); needs --bronchiectasis-fraction; default none.")
    var mucusPlugFraction: Double?
    @Option(name: .customLong("bronchial-cyst-fraction"),
            help: "Fraction of the cases with bronchiectasis whose widened bronchi end in cysts, some filled with fluid (cystic bronchiectasis; in truth.json's bronchiectasis.cysts, not nodules); needs --bronchiectasis-fraction; default none.")
    var bronchialCystFraction: Double?
    @Option(name: .customLong("fibrosis-fraction"),
            help: "Fraction of cases with fibrotic interstitial lung disease (subpleural, basal-predominant reticulation, half of them with honeycombing; in truth.json's interstitial_fibrosis); default none.")
    var fibrosisFraction: Double?
    @Option(name: .customLong("traction-bronchiectasis-fraction"),
            help: "Fraction of the fibrosis cases whose bronchi in the fibrotic zone are pulled open (traction bronchiectasis: irregularly widened bronchi reaching the subpleural lung; in truth.json's interstitial_fibrosis.traction_bronchiectasis); needs --fibrosis-fraction; default none.")
    var tractionBronchiectasisFraction: Double?
    @Option(name: .customLong("pleural-plaque-fraction"),
            help: "Fraction of cases with 2-8 pleural plaques (flat, 1.5-5 mm thick, 10-50 mm long thickenings of the parietal pleura on the chest wall and the domes, calcified in 30%; in truth.json's pleural_plaques, outside the lungs, not nodules); default none.")
    var pleuralPlaqueFraction: Double?
    @Option(name: .customLong("mitral-calcium-fraction"),
            help: "Fraction of cases with mitral annular calcification (a C-shaped band of calcium along the posterior mitral annulus; in truth.json's mitral_annular_calcifications, in the heart, not nodules); default none.")
    var mitralCalciumFraction: Double?
    @Option(name: .customLong("cardiophrenic-fat-fraction"),
            help: "Fraction of cases with pericardial fat pads at the cardiophrenic angles (fat between the heart, the diaphragm and the anterior chest wall; the right one always, the left in half; not in truth.json); default none.")
    var cardiophrenicFatFraction: Double?
    @Option(name: .customLong("cardiac-motion-fraction"),
            help: "Fraction of cases with a cardiac pulsation artefact (heart border and nearby lung vessels doubled, as on a scan without ECG gating; in truth.json's cardiac_pulsation); default none.")
    var cardiacMotionFraction: Double?
    @Option(name: .customLong("valve-calcium-fraction"),
            help: "Fraction of cases with a calcified aortic valve (clumps of calcium, 1-2.5 mm balls, in 1-3 of its cusps; in truth.json's aortic_valve_calcifications, in the heart, not nodules); default none.")
    var valveCalciumFraction: Double?
    @Option(name: .customLong("mediastinal-nodule-fraction"),
            help: "Fraction of the juxtapleural nodules moved to the mediastinal pleura (against the heart, the great vessels or the side of the hilum; location juxtamediastinal in truth.json); default none, and the other nodules stay where they were.")
    var mediastinalNoduleFraction: Double?
    @Option(name: .customLong("anatomy"),
            help: "Anatomy revision: 3 (default; the training and evaluation scans) or 4 (heart resting on the diaphragm, mediastinum shaped by the great vessels, an adult's chest depth).")
    var anatomyRevision: Int?
    @Option(help: "Pixel representation: signed, unsigned or random.") var pixels: String = "random"
    @Option(help: "Rescale intercept: 0, -1024 or random.") var intercept: String = "random"
    @Option(help: "Transfer syntax: explicit, implicit or random.") var vr: String = "random"
    @Option(help: "Pixel Padding Value outside the FOV: yes, no or random.") var padding: String = "random"
    @Flag(name: .customLong("png"), help: "Also write each case as a 16-bit PNG series with series.json.")
    var png = false
    @Flag(name: .customLong("jpeg"), help: "Also write each case as an 8-bit gray JPEG series (lung window) with series.json.")
    var jpeg = false
    @Option(help: "Worker threads (default: one per core).") var workers: Int?

    func run() throws {
        var o = PhantomOptions()
        o.size = size
        o.slices = slices
        o.pixelSpacingMM = pixelSpacing
        o.sliceSpacingMM = sliceSpacing
        o.cleanFraction = cleanFraction
        o.maxNodules = maxNodules
        o.minNodules = min(1, maxNodules)
        o.minDiameterMM = minDiameter
        o.maxDiameterMM = maxDiameter
        o.vesselTerritories = vesselTerritories
        o.vesselDensity = vesselDensity
        o.vesselTreeRevision = vesselTreeRevision
        o.emphysemaFraction = emphysemaFraction
        o.atelectasisFraction = atelectasisFraction
        o.effusionFraction = effusionFraction
        o.consolidationFraction = consolidationFraction
        o.groundGlassFraction = groundGlassFraction
        o.motionFraction = motionFraction
        o.streakFraction = streakFraction
        o.beamHardeningFraction = beamHardeningFraction
        o.metalFraction = metalFraction
        o.granulomaFraction = granulomaFraction
        o.coronaryCalciumFraction = coronaryCalciumFraction
        o.aorticCalciumFraction = aorticCalciumFraction
        o.scarFraction = scarFraction
        o.bronchiectasisFraction = bronchiectasisFraction
        o.mucusPlugFraction = mucusPlugFraction
        o.bronchialCystFraction = bronchialCystFraction
        o.fibrosisFraction = fibrosisFraction
        o.tractionBronchiectasisFraction = tractionBronchiectasisFraction
        o.pleuralPlaqueFraction = pleuralPlaqueFraction
        o.valveCalciumFraction = valveCalciumFraction
        o.cardiacMotionFraction = cardiacMotionFraction
        o.mitralCalciumFraction = mitralCalciumFraction
        o.cardiophrenicFatFraction = cardiophrenicFatFraction
        o.mediastinalNoduleFraction = mediastinalNoduleFraction
        o.anatomyRevision = anatomyRevision
        o.pngCopies = png
        o.jpegCopies = jpeg
        func choice(_ name: String, _ value: String, _ yes: String, _ no: String) throws -> Bool? {
            switch value {
            case "random": return nil
            case yes: return true
            case no: return false
            default: throw ValidationError("--\(name) must be \(yes), \(no) or random, got '\(value)'")
            }
        }
        o.signedPixels = try choice("pixels", pixels, "signed", "unsigned")
        o.implicitVR = try choice("vr", vr, "implicit", "explicit")
        o.paddingOutsideFOV = try choice("padding", padding, "yes", "no")
        switch intercept {
        case "random": o.rescaleIntercept = nil
        case "0": o.rescaleIntercept = 0
        case "-1024": o.rescaleIntercept = -1024
        default: throw ValidationError("--intercept must be 0, -1024 or random, got '\(intercept)'")
        }
        guard cases >= 1 && cases <= 10_000 else { throw ValidationError("--cases must be 1...10000") }
        do { try o.validate() } catch let e as PhantomError { throw ValidationError(e.message) }
        var generator = PhantomGenerator(options: o, seed: seed)
        if let w = workers { generator.context = .init(workers: max(1, w)) }
        let out = URL(fileURLWithPath: outputDirectory)
        let start = Date()
        let truth = try generator.write(cases: cases, to: out) { id in
            FileHandle.standardError.write(Data("phantom: wrote \(id) (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)\n".utf8))
        }
        let nodules = truth.cases.filter { $0.format == "dicom" }.reduce(0) { $0 + $1.nodules.count }
        print("wrote \(cases) case(s), \(nodules) nodule(s), truth: \(out.appendingPathComponent("truth.json").path)")
    }
}
