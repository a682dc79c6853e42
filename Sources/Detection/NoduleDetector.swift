import Foundation
import Profiling
import SeriesInput
import Volumes

/// One measured and scored candidate, before the report threshold: what training and
/// evaluation tools need (the features the model saw and the finding it would become).
public struct DetectorCandidate: Sendable {
    public var features: [Double]
    public var finding: Finding
    /// The lung opacity holding the finding's centre (`LungOpacities`; unique per study), 0
    /// for none: findings of one opacity are reported once.
    public var opacity: Int = 0
    /// Centroid of the candidate's whole segmented region (LPS mm), where the outside-lung
    /// and hilar rules look; the finding's centre is the nodule's body (`NoduleMeasurement`).
    public var regionCentroidMM: SIMD3<Double>? = nil
}

/// Lung-nodule detector for chest CT (docs/detection.md):
/// lung mask (and the hilar structures in it) -> multi-scale dot filter candidates ->
/// per-candidate segmentation and measurement at native resolution -> candidates centred
/// outside the lung mask, on a hilar structure, against a main bronchus's wall or on the
/// mediastinum's edge dropped ->
/// false-positive model score (boosted trees on the features, joined in 3D by the patch
/// network's look at the HU cube around the candidate) -> Lung-RADS -> ranking, where
/// duplicates and the pieces of one lung opacity (`LungOpacities`: a consolidation, a mass)
/// are reported once -> triage.
/// Volumes with fewer than `minimumSlicesFor3D` slices are processed slice by slice in 2D.
public struct NoduleDetector: Sendable {
    public let configuration: DetectorConfiguration
    let model3D: FalsePositiveModel
    let model2D: FalsePositiveModel
    /// The second opinion on 3D candidates (nil: trees alone).
    let patchNetwork: PatchNetwork?
    let modelProblem: String?
    /// Why the bundled patch network is not used (unreadable file), or nil.
    public let patchNetworkProblem: String?
    /// The learned order of the faint candidates (nil: `BlobFilter.faintRank`'s).
    let faintPrior: FaintCandidatePrior?
    /// Why the bundled faint-candidate prior is not used (unreadable file), or nil.
    public let faintPriorProblem: String?
    /// The network that orders the faint maxima (nil: the prior's or `faintRank`'s order).
    let faintNetwork: FaintCandidateNetwork?
    /// Why the bundled faint network is not used (unreadable file), or nil.
    public let faintNetworkProblem: String?

    /// Uses the trained models bundled in Sources/Detection/Model/.
    public init(configuration: DetectorConfiguration = DetectorConfiguration()) {
        self.configuration = configuration
        var problem: String? = nil
        var m3: FalsePositiveModel? = nil, m2: FalsePositiveModel? = nil, network: PatchNetwork? = nil
        do {
            m3 = try FalsePositiveModel.bundled(mode: "3d")
            m2 = try FalsePositiveModel.bundled(mode: "2d")
        } catch { problem = "\(error)" }
        // An unreadable network leaves the trees to score alone (said, not fatal).
        var networkProblem: String? = nil
        do { network = try PatchNetwork.bundled() } catch { networkProblem = "\(error)" }
        if m3 == nil && problem == nil { problem = "no trained model bundled (fp-model-3d.json)" }
        model3D = m3 ?? .prior
        model2D = m2 ?? m3 ?? .prior
        // The network was trained to join the bundled trees' score, not the prior's.
        patchNetwork = m3 == nil ? nil : network
        modelProblem = problem
        patchNetworkProblem = networkProblem
        (faintPrior, faintPriorProblem) = Self.bundledFaintPrior()
        (faintNetwork, faintNetworkProblem) = Self.bundledFaintNetwork()
    }

    /// The bundled faint-candidate prior, or why it cannot be used. It chooses which
    /// candidates are measured, not how they are scored, so training and tests that pass
    /// their own scoring model still get it.
    static func bundledFaintPrior() -> (FaintCandidatePrior?, String?) {
        do { return (try FaintCandidatePrior.bundled(), nil) } catch { return (nil, "\(error)") }
    }

    /// The bundled faint network, or why it cannot be used (like the prior, it chooses what is
    /// measured, not how it is scored).
    static func bundledFaintNetwork() -> (FaintCandidateNetwork?, String?) {
        do { return (try FaintCandidateNetwork.bundled(), nil) } catch { return (nil, "\(error)") }
    }

    /// Uses the given model for both modes, and optionally a patch network (training, tests).
    public init(configuration: DetectorConfiguration, model: FalsePositiveModel, patchNetwork: PatchNetwork? = nil) {
        self.init(configuration: configuration, model: model, patchNetwork: patchNetwork, patchNetworkProblem: nil)
    }

    /// As above, with a reason the network is missing (tests of the warning).
    init(configuration: DetectorConfiguration, model: FalsePositiveModel, patchNetwork: PatchNetwork?,
         patchNetworkProblem: String?) {
        self.configuration = configuration
        model3D = model
        model2D = model
        self.patchNetwork = patchNetwork
        modelProblem = nil
        self.patchNetworkProblem = patchNetworkProblem
        (faintPrior, faintPriorProblem) = Self.bundledFaintPrior()
        (faintNetwork, faintNetworkProblem) = Self.bundledFaintNetwork()
    }

    /// Whether the bundled trained model was loaded (false: the hand-set prior is in use).
    public var usesTrainedModel: Bool { modelProblem == nil }

    /// Assesses one series (HU volume with padding at -1024).
    public func assess(_ series: ImageSeries) throws -> StudyAssessment {
        try assess(volume: series.volume)
    }

    /// Assesses one HU volume.
    public func assess(volume: Volume) throws -> StudyAssessment {
        try assess(volume: volume, recorder: nil)
    }

    /// Assesses one HU volume and says where each maximum of the dot filter ended
    /// (`CandidateTrace`). Slower than `assess` only by the bookkeeping.
    public func assessTracingCandidates(volume: Volume) throws -> (StudyAssessment, CandidateTrace) {
        let recorder = CandidateTraceRecorder()
        let assessment = try assess(volume: volume, recorder: recorder)
        let twoD = volume.slices < configuration.minimumSlicesFor3D
        recorder.trace.markReported(assessment.findings,
                                    minimumScore: twoD ? configuration.minimumScore2D : configuration.minimumScore,
                                    minimumDiameterMM: configuration.minimumDiameterMM)
        return (assessment, recorder.trace)
    }

    func assess(volume: Volume, recorder: CandidateTraceRecorder?) throws -> StudyAssessment {
        let (candidates, timing) = try detectCandidates(in: volume, recorder: recorder)
        var assessment = Self.assessment(from: candidates, configuration: configuration, timing: timing,
                                         twoD: volume.slices < configuration.minimumSlicesFor3D)
        if let warning = Self.thickSliceWarning(volume) { assessment.warnings.append(warning) }
        assessment.imageNoiseHU = ImageNoise.estimateHU(volume)
        if let warning = Self.noiseWarning(noiseHU: assessment.imageNoiseHU) { assessment.warnings.append(warning) }
        if let problem = patchNetworkProblem, Self.runsPatchNetwork(on: volume, configuration: configuration) {
            assessment.warnings.append("scored by the boosted trees alone: the bundled patch network is unreadable (\(problem))")
        }
        if let problem = faintPriorProblem, configuration.learnedFaintOrder, volume.slices >= configuration.minimumSlicesFor3D {
            assessment.warnings.append("faint candidates in the hand-made order: the bundled faint-candidate prior is unreadable (\(problem))")
        }
        if let problem = faintNetworkProblem, configuration.learnedFaintOrder, volume.slices >= configuration.minimumSlicesFor3D {
            assessment.warnings.append("faint candidates not ordered by the faint network: the bundled file is unreadable (\(problem))")
        }
        return assessment
    }

    /// Thickest slice spacing (mm) the detector is evaluated on (evaluation seed 9003 at
    /// 2.5 mm: CPM 0.73, against 0.76 at 1-1.5 mm); Lung-RADS also asks for <= 2.5 mm
    /// reconstructions.
    public static let validatedSliceSpacingMM = 2.5

    /// A warning for a volume whose slices are thicker than `validatedSliceSpacingMM`: on
    /// development seed 1300 rendered at 5 mm, CPM fell from 0.78 to 0.50 and 1 of 8
    /// nodules of 6-10 mm was found at 1 false positive per scan (docs/detection.md).
    static func thickSliceWarning(_ volume: Volume) -> String? {
        let spacing = volume.spacing.sliceMM
        guard volume.slices > 1, spacing > validatedSliceSpacingMM + 0.01 else { return nil }
        return String(format: "slices %.1f mm apart: nodule detection was validated on slices of at most %.1f mm "
                      + "(Lung-RADS asks for <= 2.5 mm); on 5 mm slices it misses most nodules under 10 mm, "
                      + "so an empty or short list does not rule them out", spacing, validatedSliceSpacingMM)
    }

    /// Whether a finding centred at grid position `p` with long axis `longAxisMM` is surrounded
    /// by tissue, so not in the lung whatever the mask says: less than
    /// `minimumAeratedShellFraction` of the sphere half its long axis + 3 mm around it (a circle
    /// in 2D) is aerated (below `DetectorConfiguration.aeratedHU`). Always false with the
    /// fraction 0.
    static func isSurroundedByTissue(grid: WorkingGrid, gridPosition p: SIMD3<Double>, longAxisMM: Double,
                                     configuration: DetectorConfiguration) -> Bool {
        guard configuration.minimumAeratedShellFraction > 0 else { return false }
        let aerated = grid.fractionOnSphere(around: p, radiusMM: 0.5 * longAxisMM + 3,
                                            belowHU: DetectorConfiguration.aeratedHU)
        return aerated < configuration.minimumAeratedShellFraction
    }

    /// Whether a measured candidate is a plate on the pleura rather than a nodule: solid,
    /// within `pleuralPlateDistanceMM` of the pleura, and its short axis below
    /// `pleuralPlateAxisRatio` times its long axis. Pleural plaques (calcified or not) and
    /// pleural thickening are flat; the phantoms' plaques measured 12.8 x 4.2 and 13.5 x 4.2 mm
    /// and were reported as 4A "nodules" outside the lung (development seeds 1300-1301 with
    /// plaques, docs/detection.md "A plate on the pleura"). A flat solid lesion on the pleura
    /// that is a nodule is typically a perifissural nodule or an intrapulmonary lymph node,
    /// benign in practice (Lung-RADS v2022 puts perifissural nodules under 10 mm in category
    /// 2). Always false with the ratio 0.
    static func isPleuralPlate(_ m: CandidateMeasurement, configuration: DetectorConfiguration) -> Bool {
        configuration.pleuralPlateAxisRatio > 0 && m.type == .solid
            && m.distanceToPleuraMM <= DetectorConfiguration.pleuralPlateDistanceMM
            && m.shortAxisMM < configuration.pleuralPlateAxisRatio * m.longAxisMM
    }

    /// Whether a measured candidate is fat rather than a nodule (`DetectorConfiguration
    /// .fatDensityRule`): at least `fatMinimumDiameterMM` across (the mean of its axes, as the
    /// reported diameter), no voxel brighter than `fatMaximumHU` and its mean HU within
    /// `fatMeanHU`. Fat is -150 to -50 HU on CT; a solid nodule of that size has a soft-tissue
    /// core well above -20 HU, a ground-glass one a mean far below -190. Always false with the
    /// rule off.
    static func isFatDensity(_ m: CandidateMeasurement, configuration: DetectorConfiguration) -> Bool {
        configuration.fatDensityRule
            && 0.5 * (m.longAxisMM + m.shortAxisMM) >= DetectorConfiguration.fatMinimumDiameterMM
            && m.maxHU <= DetectorConfiguration.fatMaximumHU
            && DetectorConfiguration.fatMeanHU.contains(m.meanHU)
    }

    /// Whether the patch network joins the trees' score: 3D series with slices at most
    /// `validatedSliceSpacingMM` apart. On development seed 1300 at 5 mm it raised CPM from 0.50
    /// to 0.60 but put 5 actionable findings (0.6-1.0, 13-20 mm, category 4A/4B) on the heart's
    /// border outside the lungs, against 2 with the trees alone: thick slices are outside what
    /// it was trained and measured on.
    static func runsPatchNetwork(on volume: Volume, configuration: DetectorConfiguration) -> Bool {
        configuration.patchNetwork && volume.slices >= configuration.minimumSlicesFor3D
            && volume.spacing.sliceMM <= validatedSliceSpacingMM + 0.01
    }

    /// Turns scored candidates into the ranked findings and the study's triage (`twoD`: a
    /// series processed slice by slice, with its own report threshold).
    static func assessment(from candidates: [DetectorCandidate], configuration: DetectorConfiguration,
                           timing: [String: Double], twoD: Bool = false) -> StudyAssessment {
        var kept: [Finding] = []
        var keptOpacities: Set<Int> = []
        let minimumScore = twoD ? configuration.minimumScore2D : configuration.minimumScore
        for c in candidates.sorted(by: { $0.finding.score > $1.finding.score }) {
            let f = c.finding
            guard f.score >= minimumScore, f.diameterMM >= configuration.minimumDiameterMM else { continue }
            // The same nodule found from two candidates, or two pieces of one opacity: keep
            // the higher score.
            let duplicate = kept.contains { k in
                let d = k.centerMM - f.centerMM
                return (d * d).sum().squareRoot() < max(k.diameterMM, f.diameterMM) / 2
            }
            if duplicate || (c.opacity != 0 && keptOpacities.contains(c.opacity)) { continue }
            kept.append(f)
            keptOpacities.insert(c.opacity)
            if kept.count >= configuration.maximumFindings { break }
        }
        for i in kept.indices { kept[i].rank = i + 1; kept[i].id = "F\(i + 1)" }
        let actionable = kept.filter { $0.score >= configuration.actionableScore }
        let category = actionable.map(\.lungRADS).max() ?? .category1
        let score = kept.map { $0.score * LungRADS.studyWeight(for: $0.lungRADS) }.max() ?? 0
        var assessment = StudyAssessment(findings: kept, priority: LungRADS.priority(for: category), score: score,
                                         lungRADS: category, timingMS: timing,
                                         actionableCount: actionable.filter { $0.lungRADS >= .category3 }.count,
                                         actionableScore: configuration.actionableScore)
        if let warning = multifocalOpacityWarning(kept) { assessment.warnings.append(warning) }
        return assessment
    }

    /// How many reported findings that are parts of larger opacities (`opacityExtentMM`) make
    /// a multifocal pattern (viral pneumonia's ground glass, several consolidations) that the
    /// radiologist should read as a whole before the nodule list. One such finding is a
    /// consolidation or a mass and needs no warning.
    static let multifocalOpacityCount = 3

    /// The study warning for a multifocal pattern among `findings` (the reported ones), or nil.
    static func multifocalOpacityWarning(_ findings: [Finding]) -> String? {
        let parts = findings.compactMap(\.opacityExtentMM)
        guard parts.count >= multifocalOpacityCount, let largest = parts.max() else { return nil }
        return String(format: "%d findings are parts of larger lung opacities (up to %.0f mm): a multifocal pattern "
                      + "such as infection or inflammation; read the lungs as a whole, nodule assessment "
                      + "there is limited", parts.count, largest)
    }

    /// Whether the patient's head is towards higher z (nil when the slices are not axial).
    static func superiorIsHighZ(_ volume: Volume) -> Bool? {
        let step = volume.affine.sliceStep
        let stepLength = (step * step).sum().squareRoot()
        let axial = stepLength > 0 && abs(step.z) > 0.8 * stepLength
        return axial ? step.z > 0 : nil
    }

    /// Every faint maximum of the dot filter in a 3D volume (smoothed centre below
    /// `faintCandidateHU`), before the candidates are chosen: what `triage train-prior` learns
    /// the faint order from. Empty for volumes the detector runs in 2D.
    public func faintMaxima(in volume: Volume) throws -> [FaintMaximum] {
        guard volume.voxelCount > 0, volume.columns >= 8, volume.rows >= 8 else { throw DetectionError.emptyVolume }
        try configuration.validate()
        guard volume.slices >= configuration.minimumSlicesFor3D else { return [] }
        let workers = configuration.workerCount
        let grid = WorkingGrid(volume: volume, spacingMM: configuration.workingSpacingMM, slice: nil, workers: workers)
        let lungs = try LungSegmentation.segment(grid: grid, configuration: configuration,
                                                 superiorIsHighZ: Self.superiorIsHighZ(volume), workers: workers)
        return BlobFilter.maxima(grid: grid, lungs: lungs, configuration: configuration, workers: workers)
            .filter { $0.smoothedHU < configuration.faintCandidateHU }
            .map { c in
                let n = grid.nativeIndex(c.gridPosition)
                return FaintMaximum(centerMM: volume.patientPosition(column: n.x, row: n.y, slice: n.z),
                                    features: FaintCandidatePrior.features(c), huMassRank: BlobFilter.faintRank(c))
            }
    }

    /// Every measured candidate with its score (no score threshold, no de-duplication).
    public func detectCandidates(in volume: Volume) throws -> ([DetectorCandidate], [String: Double]) {
        try detectCandidates(in: volume, recorder: nil)
    }

    /// As above, telling `recorder` (when given) what became of every dot-filter maximum.
    func detectCandidates(in volume: Volume, recorder: CandidateTraceRecorder?)
        throws -> ([DetectorCandidate], [String: Double]) {
        guard volume.voxelCount > 0, volume.columns >= 8, volume.rows >= 8 else { throw DetectionError.emptyVolume }
        try configuration.validate()
        let workers = configuration.workerCount
        var timing: [String: Double] = [:]
        func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let t0 = DispatchTime.now().uptimeNanoseconds
            // Also a profiler span (`detect.lung_mask`, ...) for `triage profile` and traces.
            let r = try Profiler.span("detect.\(name)", voxels: volume.voxelCount) { try body() }
            timing[name, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            return r
        }
        let twoD = volume.slices < configuration.minimumSlicesFor3D
        let slicesToRun: [Int?] = twoD ? (0..<volume.slices).map { Optional($0) } : [nil]
        let superiorIsHighZ = Self.superiorIsHighZ(volume)
        var out: [DetectorCandidate] = []
        var opacityOffset = 0   // opacity labels unique over the slices of 2D mode
        var lungsFound = false
        for slice in slicesToRun {
            let grid = timed("resample") {
                WorkingGrid(volume: volume, spacingMM: configuration.workingSpacingMM, slice: slice, workers: workers)
            }
            var lungs: LungMask
            do {
                lungs = try timed("lung_mask") {
                    try LungSegmentation.segment(grid: grid, configuration: configuration,
                                                 superiorIsHighZ: superiorIsHighZ, workers: workers)
                }
            } catch DetectionError.noLungs(let reason) {
                if twoD { continue }   // a slice below or above the lungs
                throw DetectionError.noLungs(reason: reason)
            }
            lungsFound = true
            timed("hilar") {
                guard configuration.hilarOpeningRadiusMM > 0 || configuration.mediastinalMarginMM > 0 else { return }
                let mediastinum = HilarStructures.mediastinum(lungs: lungs)
                (lungs.hilar, lungs.hilarThickness) = HilarStructures.structures(
                    lungs: lungs, mediastinum: mediastinum, grid: grid, airThresholdHU: Float(configuration.airThresholdHU),
                    radiusMM: configuration.hilarOpeningRadiusMM, withThickness: configuration.hilarNeckRatio > 0,
                    workers: workers)
                // For the mediastinal margin, the bump rule's base and the opacities' envelope
                // (until 2026-12-05 only with the margin on).
                lungs.mediastinum = mediastinum
            }
            let opacities = timed("opacities") {
                LungOpacities.find(grid: grid, lungs: lungs, thresholdHU: Float(configuration.opacityThresholdHU),
                                   radiusMM: configuration.opacityRadiusMM, workers: workers)
            }
            // The faint network (when bundled) orders the faint maxima by the HU around them.
            let faintKeys: (([BlobCandidate]) -> [Double])? = configuration.learnedFaintOrder && !twoD
                ? faintNetwork.map { network in
                    { blobs in
                        timed("faint_network") {
                            network.logits(volume: volume, centersMM: blobs.map { c in
                                let n = grid.nativeIndex(c.gridPosition)
                                return volume.patientPosition(column: n.x, row: n.y, slice: n.z)
                            }, workers: workers)
                        }
                    }
                }
                : nil
            let (blobs, maxima) = timed("candidates") {
                BlobFilter.candidates(grid: grid, lungs: lungs, configuration: configuration,
                                      faintPrior: configuration.learnedFaintOrder ? faintPrior : nil,
                                      faintKeys: faintKeys, workers: workers)
            }
            recorder?.record(maxima: maxima, selected: blobs) { c in
                let n = grid.nativeIndex(c.gridPosition)
                return volume.patientPosition(column: n.x, row: n.y, slice: n.z)
            }
            let model = twoD ? model2D : model3D
            let geometry = LungGeometry(grid: grid, lungs: lungs, volume: volume, superiorIsHighZ: superiorIsHighZ)
            let measured: [CandidateMeasurement?] = timed("measure") {
                var results = [CandidateMeasurement?](repeating: nil, count: blobs.count)
                results.withUnsafeMutableBufferPointer { r in
                    parallelSlabs(blobs.count, workers: workers) { k in
                        r[k] = NoduleMeasurement.measure(volume: volume, slice: slice, grid: grid, lungs: lungs,
                                                         candidate: blobs[k], configuration: configuration)
                    }
                }
                return results
            }
            // Candidates kept (centred in the parenchyma) with the trees' score, and whether
            // they lie within the hilar or mediastinal margin (kept only if confident).
            var kept: [(measurement: CandidateMeasurement, treeScore: Double, nearMediastinum: Bool)] = []
            var keptBlob: [Int] = []   // index into `blobs` of each kept candidate (the trace's)
            timed("score") {
                for (blob, measurement) in measured.enumerated() {
                    guard let m = measurement else { recorder?.set(blob, .notMeasured); continue }
                    var gridCenter = grid.gridPosition(ofNative: m.regionCenterVoxel)
                    if twoD { gridCenter.z = 0 }
                    // Blob maxima lie in the lung mask, but measurement can move the centre
                    // (re-centring on the segmented region; these rules look at the whole
                    // region's centroid, which they were chosen with): a centre that ends outside the
                    // mask sits on the mediastinum, a main bronchus's wall or a vessel beside
                    // it, or the chest wall, none of them lung.
                    guard lungs.containsNearest(gridPosition: gridCenter) else {
                        recorder?.set(blob, .outsideLungMask); continue
                    }
                    // Centred on a hilar vessel or bronchus: outside the lung parenchyma, unless
                    // what it sits on ends within 3 mm of its edge (away from the base it
                    // sits on): a nodule on the mediastinal pleura, which the opening joins to
                    // the mediastinum, while a trunk cut across runs on; or it is a ball joined
                    // to the hilum by a thinner vessel (`hilarNeckRatio`). (Not left to the
                    // score alone: the phantoms' hilar trunks cut across score 1.0.)
                    var onMediastinalBump = false
                    if lungs.isNearHilarStructure(gridPosition: gridCenter, radiusMM: 0, spacingMM: grid.spacingMM) {
                        let isBump = configuration.keepMediastinalBumps
                            && lungs.hilarFractionOnSphere(gridPosition: gridCenter, radiusMM: 0.5 * m.longAxisMM + 3,
                                                           spacingMM: grid.spacingMM,
                                                           awayFromMediastinumMM: configuration.mediastinalBumpBaseMM) == 0
                        guard isBump || (configuration.hilarNeckRatio > 0
                                         && lungs.isBallOnHilarNeck(gridPosition: gridCenter,
                                                                    ratio: configuration.hilarNeckRatio,
                                                                    spacingMM: grid.spacingMM))
                        else { recorder?.set(blob, .hilarStructure); continue }
                        onMediastinalBump = true
                    }
                    // On or against a main bronchus's wall (or the artery beside it).
                    func againstAirwayWall(_ p: SIMD3<Double>) -> Bool {
                        configuration.airwayMarginMM > 0
                            && lungs.isNearAirwayWall(gridPosition: p, radiusMM: configuration.airwayMarginMM,
                                                      spacingMM: grid.spacingMM)
                    }
                    if againstAirwayWall(gridCenter) { recorder?.set(blob, .airwayWall); continue }
                    // Against a hilar trunk or on the mediastinum's edge (aortic wall and fat in
                    // a corner the closing filled), or a nodule on the mediastinal pleura.
                    func withinMargins(_ p: SIMD3<Double>) -> Bool {
                        (configuration.hilarMarginMM > 0
                         && lungs.isNearHilarStructure(gridPosition: p, radiusMM: configuration.hilarMarginMM,
                                                       spacingMM: grid.spacingMM))
                            || (configuration.mediastinalMarginMM > 0
                                && lungs.isNearMediastinum(gridPosition: p, radiusMM: configuration.mediastinalMarginMM,
                                                           spacingMM: grid.spacingMM))
                    }
                    let nearMediastinum = onMediastinalBump || withinMargins(gridCenter)
                    // The reported centre (and the patch network's) is the nodule's body, except
                    // within the margins, where the rules, `nearMediastinumMinimumScore` and the
                    // network's part in that score were chosen with the whole region's centroid
                    // (with the body there, a hilar trunk's blunt end in a unit test scored 0.56),
                    // and where the body lies outside the mask, on a hilar structure, against a
                    // bronchus's wall or within the margins while the centroid does not.
                    var reported = m
                    if m.centerVoxel != m.regionCenterVoxel {   // 3D only: 2D reports the centroid
                        let body = grid.gridPosition(ofNative: m.centerVoxel)
                        let allowed = !nearMediastinum
                            && lungs.containsNearest(gridPosition: body)
                            && !lungs.isNearHilarStructure(gridPosition: body, radiusMM: 0, spacingMM: grid.spacingMM)
                            && !againstAirwayWall(body)
                            && !withinMargins(body)
                        if !allowed { reported.centerVoxel = m.regionCenterVoxel; reported.centerMM = m.regionCenterMM }
                    }
                    // Surrounded by tissue: not in the lung, whatever the mask says (the closing
                    // can take a corner of the mediastinum in).
                    var reportedGridCenter = grid.gridPosition(ofNative: reported.centerVoxel)
                    if twoD { reportedGridCenter.z = 0 }
                    if Self.isSurroundedByTissue(grid: grid, gridPosition: reportedGridCenter, longAxisMM: m.longAxisMM,
                                                 configuration: configuration) {
                        recorder?.set(blob, .surroundedByTissue); continue
                    }
                    if !twoD && Self.isPleuralPlate(m, configuration: configuration) {
                        recorder?.set(blob, .pleuralPlate); continue
                    }
                    if !twoD && Self.isFatDensity(m, configuration: configuration) {
                        recorder?.set(blob, .fatDensity); continue
                    }
                    kept.append((reported, model.score(m.features), nearMediastinum))
                    keptBlob.append(blob)
                }
            }
            var scores = kept.map(\.treeScore)
            if let network = patchNetwork, Self.runsPatchNetwork(on: volume, configuration: configuration) {
                timed("patch_network") {
                    scores.withUnsafeMutableBufferPointer { s in
                        parallelSlabs(kept.count, workers: workers) { k in
                            s[k] = network.combinedScore(treeScore: kept[k].treeScore) {
                                network.logit(volume: volume, centerMM: kept[k].measurement.centerMM)
                            }
                        }
                    }
                }
            }
            for (k, (m, treeScore, nearMediastinum)) in kept.enumerated() {
                if nearMediastinum {
                    let deciding = configuration.treesDecideNearMediastinum ? min(scores[k], treeScore) : scores[k]
                    if deciding < configuration.nearMediastinumMinimumScore {
                        recorder?.set(keptBlob[k], .nearMediastinumLowScore); continue
                    }
                }
                let diameter = 0.5 * (m.longAxisMM + m.shortAxisMM)
                let category = LungRADS.category(type: m.type, diameterMM: diameter, solidComponentMM: m.solidDiameterMM,
                                                 calcified: m.calcified)
                let (side, zone) = geometry.location(ofNative: m.centerVoxel, patient: m.centerMM)
                var finding = Finding(
                    id: "", rank: 0, score: scores[k], centerMM: m.centerMM, centerVoxel: m.centerVoxel,
                    diameterMM: diameter, longAxisMM: m.longAxisMM, shortAxisMM: m.shortAxisMM,
                    equivalentDiameterMM: m.equivalentDiameterMM, volumeMM3: m.volumeMM3, meanHU: m.meanHU,
                    minHU: m.minHU, maxHU: m.maxHU, type: m.type, lungRADS: category, lungSide: side,
                    lungZone: zone, sphericity: m.elongation, vesselness: max(0, min(1, 1 - m.blob.roundness)),
                    distanceToPleuraMM: m.distanceToPleuraMM)
                finding.calcified = m.calcified
                var gridCenter = grid.gridPosition(ofNative: m.regionCenterVoxel)
                if twoD { gridCenter.z = 0 }
                let opacity = opacities.label(atGridPosition: gridCenter)
                if opacity != 0, opacities.extentsMM[opacity - 1] > m.longAxisMM + 10 {
                    finding.opacityExtentMM = opacities.extentsMM[opacity - 1]
                }
                recorder?.scored(keptBlob[k], score: finding.score, centerMM: finding.centerMM,
                                 diameterMM: finding.diameterMM, type: finding.type)
                out.append(DetectorCandidate(features: m.features, finding: finding,
                                             opacity: opacity == 0 ? 0 : opacityOffset + opacity,
                                             regionCentroidMM: m.regionCenterMM))
            }
            opacityOffset += opacities.count
        }
        if !lungsFound { throw DetectionError.noLungs(reason: "no slice holds an enclosed air region the size of a lung") }
        return (out, timing)
    }
}

/// Lung side and cranio-caudal zone of a position.
struct LungGeometry {
    /// LPS x (mm) of the midline between the lungs.
    var midlineX: Double
    /// Grid z range of the lungs (3D), or nil.
    var zRange: ClosedRange<Double>?
    var superiorIsHighZ: Bool?
    var grid: WorkingGrid

    init(grid: WorkingGrid, lungs: LungMask, volume: Volume, superiorIsHighZ: Bool?) {
        self.grid = grid
        self.superiorIsHighZ = superiorIsHighZ
        let lo = SIMD3(Double(lungs.origin.x), Double(lungs.origin.y), Double(lungs.origin.z))
        let hi = lo + SIMD3(Double(lungs.size.nx - 1), Double(lungs.size.ny - 1), Double(lungs.size.nz - 1))
        let mid = grid.nativeIndex((lo + hi) / 2)
        midlineX = volume.patientPosition(column: mid.x, row: mid.y, slice: mid.z).x
        zRange = lungs.size.nz > 1 ? lo.z...hi.z : nil
    }

    func location(ofNative n: SIMD3<Double>, patient p: SIMD3<Double>) -> (String, String) {
        // LPS: +x is the patient's left.
        let side = p.x < midlineX ? "right" : "left"
        guard let range = zRange, let superiorHigh = superiorIsHighZ, range.upperBound > range.lowerBound else {
            return (side, "unknown")
        }
        let z = grid.gridPosition(ofNative: n).z
        var t = (z - range.lowerBound) / (range.upperBound - range.lowerBound)
        if superiorHigh { t = 1 - t }   // t = 0 at the apex
        return (side, t < 1.0 / 3 ? "upper" : t < 2.0 / 3 ? "middle" : "lower")
    }
}
