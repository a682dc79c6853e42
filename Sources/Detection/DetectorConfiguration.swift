/// Settings of the nodule detector. Every field has a documented default; a pipeline's
/// `detect:` section decodes onto it with missing keys taking the defaults
/// (`DetectorConfiguration(from:)` accepts a partial dictionary). Keys are snake_case;
/// `DetectorConfiguration.validKeys` lists them for strict validation of pipeline files.
/// See docs/detection.md for what each setting does.
public struct DetectorConfiguration: Codable, Sendable, Equatable {
    /// Isotropic spacing (mm) of the working grid the lung mask and blob filter run on.
    /// Measurement always happens at the series' native resolution. Default 1.25 mm.
    public var workingSpacingMM: Double = 1.25
    /// Voxels below this are air for the lung mask. Default -400 HU.
    public var airThresholdHU: Double = -400
    /// Air components smaller than this (mL) are not lung (bowel gas, noise). Default 30 mL.
    public var minimumLungVolumeML: Double = 30
    /// Radius (mm) of the ball used to close the lung mask so nodules touching the pleura
    /// stay inside; a juxtapleural nodule up to about twice this wide is kept. Default 15 mm.
    public var closingRadiusMM: Double = 15
    /// The airway taken out of the lung mask after the closing (the tracked trachea and main
    /// bronchi, and other air regions running into the mediastinum: `LungSegmentation` step
    /// 7) takes every voxel within this distance (mm) of its lumen with it: the main bronchial
    /// wall where the bronchus leaves the mediastinum is not parenchyma. 0 removes the lumen
    /// only. Default 3 mm.
    public var airwayWallMM: Double = 3
    /// Gaussian scales (mm) of the multi-scale dot filter. A ball of radius r answers best
    /// near sigma = r / sqrt(3), so the defaults cover diameters of about 3 to 30 mm.
    public var blobScalesMM: [Double] = [0.9, 1.3, 1.9, 2.8, 4.1, 6.0, 8.7]
    /// Smallest scale-normalised dot response (HU) kept as a candidate. Default 8 HU (a
    /// ground-glass nodule 170 HU above the parenchyma answers with about 10 HU).
    public var minimumBlobResponseHU: Double = 8
    /// At most this many candidates (strongest response first) are measured. Default 400.
    public var maximumCandidates: Int = 400
    /// Besides those, up to this many faint candidates (smoothed centre below
    /// `faintCandidateHU` at their best scale: ground-glass nodules, whose dot response is a
    /// third of a solid nodule's and loses to the many vessels), ranked by the excess of
    /// their smoothed HU over the parenchyma times scale times roundness (`BlobFilter.faintRank`).
    /// Default 200.
    public var maximumFaintCandidates: Int = 200
    /// Smoothed HU at a candidate's centre below which it is faint. Default -500 HU.
    public var faintCandidateHU: Double = -500
    /// Coarse faint candidates (scale at least `coarseFaintSigmaMM`, smoothed centre below
    /// `faintCandidateHU`: ground-glass nodules of about 8 mm and more) are searched at each
    /// coarse scale on its own, up to this many are taken before the other faint ones, and
    /// they are measured from the smoothed level at their centre rather than from the
    /// brightest voxel near it. A vessel running through a ground-glass nodule otherwise hides
    /// it three times over: its small-scale response covers the nodule's large-scale one in
    /// the maximum over scales, vessel twigs outrank it among the faint candidates, and the
    /// measurement seeds on the vessel. 3D only. Default 100; 0 turns the search off.
    public var maximumCoarseFaintCandidates: Int = 100
    /// Use a learned order of the faint maxima when one is bundled: the faint network's
    /// (`FaintCandidateNetwork`, Sources/Detection/Model/faint-network-3d.json) chooses
    /// `faintNetworkCandidates` more after the hand-made faint ones; else the learned prior
    /// (`FaintCandidatePrior`, faint-prior-3d.json) orders the faint candidates (all but the
    /// coarse ones) instead of `BlobFilter.faintRank`. 3D only. Default true.
    public var learnedFaintOrder: Bool = true
    /// The faint maxima the faint network looks at: the first this many in `faintRank`'s order
    /// that the candidates kept before it (strong, coarse, hand-made faint) leave open (of
    /// 7,000-22,000 a scan; the network takes about 0.5 s for 3000 places on two cores, and
    /// the ground-glass nodules it reaches on held-out training seeds rank 150-2,200 there).
    /// 3D only. Default 3000.
    public var faintNetworkPool: Int = 3000
    /// With a faint network bundled: after the `maximumFaintCandidates` faint candidates in
    /// `faintRank`'s order, up to this many more in the network's order, from the first
    /// `faintNetworkPool` faint maxima the others leave open. Added rather than replacing the
    /// hand-made ones: in place of them, the network's candidates cost the retrained models 188
    /// false positives on the development sets (docs/detection.md, "The faint network");
    /// added, 228 with a network trained on its pool ("The faint network added to the
    /// hand-made faint candidates"), so none is bundled. The network alone orders the faint
    /// list with `maximum_faint_candidates` 0 and this 200. 3D only. Default 100.
    public var faintNetworkCandidates: Int = 100
    /// Scale (mm) from which a faint candidate is coarse. Default 2.7 mm.
    public var coarseFaintSigmaMM: Double = 2.7
    /// Candidates closer than this (mm), or inside a stronger candidate's radius, are merged
    /// (faint ones in 3D: inside the smaller of the two radii, `BlobFilter.Separation`).
    public var minimumSeparationMM: Double = 4
    /// Radius (mm) of the ball that finds the hilar structures (`HilarStructures`): tissue
    /// inside the lung mask thicker than this ball's diameter and continuous with the
    /// mediastinum (pulmonary arteries and veins through the hilum). A finding centred on them
    /// is not reported: it is outside the lung parenchyma; one within `hilarMarginMM` only
    /// with a score of `nearMediastinumMinimumScore`. Default 4 mm; 0 turns the rule off.
    public var hilarOpeningRadiusMM: Double = 4
    /// See `hilarOpeningRadiusMM`. Default 4.5 mm: a centre on a hilar trunk's wall, where
    /// the partial-volumed edge of a trunk cut obliquely is found, is within that of the
    /// opening (chosen on development seed 1300: 2.5 mm left 2 of 53 findings outside the
    /// phantoms' lungs, 4.5 mm none, no nodule lost).
    public var hilarMarginMM: Double = 4.5
    /// A finding centred within this (mm) of a main bronchus's wall where the lung mask
    /// excludes it (`airwayWallMM` around the airway's air) is not reported: it lies on the
    /// bronchial wall or the artery running beside the bronchus, not in the parenchyma.
    /// 0 turns the rule off. Default 3 mm (chosen on development seeds 1300-1301: 12 of 1600
    /// candidates outside the phantoms' lungs at any score, all against the left main or
    /// lower-lobe bronchus, with the rule off; 1 with 2 mm; 0 with 3 mm; no finding above
    /// `minimumScore` changed). The price: a nodule up to about 8 mm pressed against a main
    /// bronchus is not reported.
    public var airwayMarginMM: Double = 3
    /// A finding centred within this (mm) of the mediastinum (`HilarStructures.mediastinum`:
    /// the tissue between the lungs, outside the lung mask) is not reported. Where the lung
    /// wraps around the descending aorta and meets the diaphragm, the pleural closing fills
    /// the corner between them with aortic wall and fat, and its partial-volumed edge against
    /// the lung answers the dot filter like a small nodule touching the pleura. 0 turns the
    /// rule off. Default 4.5 mm (chosen on development seeds 1300, 1301 and the 0.625 and
    /// 2.5 mm sets of seed 1300: of 3,200 candidates at any score, the 3 outside the phantoms'
    /// lungs were 2.8-4.0 mm from the mediastinum, every candidate on a nodule 11.8 mm or
    /// more).
    /// The price, with `nearMediastinumMinimumScore` above 1: a nodule smaller than about
    /// 9 mm touching the mediastinal pleura is not reported.
    public var mediastinalMarginMM: Double = 4.5
    /// A finding within `hilarMarginMM` of a hilar structure (not on it) or within
    /// `mediastinalMarginMM` of the mediastinum is reported only when its score is at least
    /// this. Next to the mediastinum, the edges of hilar trunks and of the aortic wall look
    /// like small nodules touching the pleura, but so do the nodules that touch the
    /// mediastinal pleura; the false-positive model decides. Default 0.5, the default
    /// `actionableScore` (chosen on a first draft of the independent phantom,
    /// scripts/independent_phantom.py seed 1: with both margins absolute, 6 of 11
    /// juxtapleural nodules were found, 8 with neither margin; our own phantoms put no nodule
    /// there; docs/detection.md, "An independent phantom"). Above 1 the margins drop every
    /// finding, as before 2026-12-05; 0 keeps all.
    public var nearMediastinumMinimumScore: Double = 0.5
    /// Within those margins the boosted trees' own score must reach
    /// `nearMediastinumMinimumScore` too: the patch network cannot lift a candidate there.
    /// Next to the mediastinum its cube holds mediastinal tissue, and it answered on the edges
    /// of hilar trunks and on the mediastinal pleura: on the development sets every finding
    /// within the margins that the trees scored below 0.1 was a false positive the network had
    /// lifted to 0.67-0.96 (6 on d1302, ind1 and ce1303), every nodule there scored 0.99 or
    /// more by the trees (10); the two findings 4.6 mm outside the lungs of evaluation A4-E1
    /// and E8 had trees' scores of 0.07 and 0.26 and 0.99 after the network
    /// (docs/detection.md, "The trees decide near the mediastinum"). Default true; false lets
    /// the joined score alone decide, as before 2026-12-06.
    public var treesDecideNearMediastinum = true
    /// A finding centred on a hilar structure is dropped, except, with this on, when none of
    /// a sphere 3 mm beyond its long-axis radius is hilar structure: a nodule on the
    /// mediastinal pleura, which the hilar opening joins to the mediastinum, ends there, while
    /// a trunk cut across runs on through the sphere. Such a finding is then treated as within
    /// the margins (`nearMediastinumMinimumScore`). Default true (independent phantom seeds 1-2:
    /// four 16-25 mm nodules on the mediastinum or the heart's border were lost to the hilar
    /// rule; development seeds 1300-1301 unchanged).
    public var keepMediastinalBumps = true
    /// For `keepMediastinalBumps`: hilar-structure voxels on the sphere within this of the
    /// mediastinum do not count. They are the base the bump sits on: where the lung mask's
    /// edge runs a voxel into the mediastinum's tissue, the sphere of a nodule on the
    /// mediastinal pleura crosses a few of them (our phantoms' nodules on the heart and the
    /// great vessels, `triage phantom --mediastinal-nodule-fraction`: fractions 0.001-0.006,
    /// so 4 of 6 large solid ones on development seed 1300 were lost), while a trunk runs on
    /// through the sphere away from the mediastinum. 2 mm (the voxels touching the mediastinum
    /// on the 1.25 mm working grid) brought them back (3 mm let three findings on the
    /// posterior mediastinum of development seed 1301 through), but changed nothing on the
    /// seeds it was not chosen on and, on anatomy revision 4 (evaluation A4-E1), let a 29 mm
    /// finding 8 mm outside the lungs through at score 1.0: default 0, every voxel counts
    /// (docs/detection.md, "Nodules on the mediastinal pleura of our phantoms").
    public var mediastinalBumpBaseMM: Double = 0
    /// A finding centred on a hilar structure is also kept (and treated as within the margins,
    /// `nearMediastinumMinimumScore`) when it is a ball on a *neck*: the hilar voxels at least
    /// this fraction of the tissue's thickness at its centre, flooded from there, neither
    /// reach the mediastinum nor leave that thickness's radius (`LungMask.isBallOnHilarNeck`).
    /// A nodule on a vessel thick enough to survive the hilar opening is joined to the hilum
    /// through that thinner vessel; a trunk cut across is as thick all the way in (it thickens
    /// towards the mediastinum), and behind a narrow junction its core still runs on along
    /// it. 0 (the default) turns it off. At 0.8 it brought back
    /// large nodules on thick hilar vessels and on the mediastinal pleura on development seeds
    /// (8 of them on 10 sets, no false positive more) and on held-out sets (the independent
    /// phantom's seed 1, evaluation M-E1), but let a 24 mm hilar trunk through at score 1.0,
    /// 8 mm outside the lungs, on evaluation seed 9001; at 0.9 such trunks passed on the
    /// development seeds too (docs/detection.md, "A ball on a hilar vessel").
    public var hilarNeckRatio: Double = 0
    /// A finding is reported only when at least this fraction of a sphere around it (radius:
    /// half its long axis + 3 mm; a circle in 2D) is aerated, below `aeratedHU`: a lung nodule
    /// sits in lung, which surrounds it at least on one side, while mediastinal tissue that the
    /// pleural closing took into the mask (between the oesophagus and the aorta, say) is
    /// surrounded by tissue. A nodule on a flat pleura keeps about half its sphere in lung,
    /// less in a corner. Default 0.25 (development seeds 1300-1305 and the other development
    /// sets, 219 findings on nodules: lowest 0.50; false positives from 0.31; a finding 4.6 mm
    /// outside the lungs of evaluation A4-E1: 0.16, docs/detection.md, "Surrounded by
    /// tissue"). 0 turns the rule off.
    public var minimumAeratedShellFraction: Double = 0.25
    /// HU below which a voxel counts as aerated lung for `minimumAeratedShellFraction`.
    public static let aeratedHU: Float = -500
    /// Findings centred in one opacity of the lung thicker than its vessels (`LungOpacities`:
    /// opaque lung opened with a ball of this radius, in connected pieces) are one finding,
    /// the highest-scoring: a consolidation or a mass is reported once, not as a dozen
    /// nodules. 0 turns the rule off. Default 5 mm (on 2.5 mm blocks: regions about 12 mm
    /// thick and more; intrapulmonary vessels are thinner, and smaller nodules are never
    /// merged).
    public var opacityRadiusMM: Double = 5
    /// Mean HU (on `LungOpacities.coarseSpacingMM` blocks) at and above which lung counts as
    /// opaque for `opacityRadiusMM`. Default -500 HU: dense lung (consolidation, masses).
    /// -700 takes in ground glass too, and makes each patch of multifocal ground glass one
    /// finding (development seed 1300 with `--ground-glass-fraction 1`: false positives 45
    /// -> 17, 14 with a 4 mm radius; no nodule lost on the other development sets), but not
    /// the default: at -700 the partial-volumed edges of vessels and nodules and the denser
    /// lung near the hila join into opacities of 100-215 mm, so true nodules were labelled
    /// parts of larger opacities (2 of the 57 nodules of the 36 evaluation scans, 1 of 11 on
    /// E5, 2 of 16 on E6, 2 of 65 on development seeds 1300-1301), and findings in one such
    /// region would be merged (docs/detection.md,
    /// "Multifocal ground glass").
    public var opacityThresholdHU: Double = -500
    /// A nodule whose centre is calcified at least this much (smoothed HU, `NoduleMeasurement`)
    /// has a benign calcification pattern (complete or central) and is Lung-RADS category 1:
    /// reported, marked `calcified`, but never raising the study's priority. Default 300 HU:
    /// calcified granulomas measure several hundred HU, non-contrast soft tissue and blood
    /// 20-60 HU; contrast-enhanced pulmonary arteries can reach this on CT angiography (see
    /// docs/detection.md, "Calcified nodules"). 0 turns the rule off.
    public var calcificationHU: Double = 300
    /// Findings of 3D series whose score is below this are dropped. Default 0.02 (0.05 until
    /// 2026-12-07: 0.02 reported one nodule more on 9 of 15 development sets once the plate
    /// rule, `pleuralPlateAxisRatio`, kept pleural plaques out; docs/detection.md "A plate on
    /// the pleura").
    public var minimumScore: Double = 0.02
    /// The same for series processed slice by slice in 2D (single images, PNG/JPEG), whose
    /// model is older and was not measured at a lower threshold: at 0.02 the real slices of
    /// ../shared/real-ct got 14, 24 and 13 findings (vessels) instead of 3, 17 and 8. Default 0.05.
    public var minimumScore2D: Double = 0.05
    /// At most this many findings per study, highest score first. Default 30.
    public var maximumFindings: Int = 30
    /// A finding counts for the study's priority and Lung-RADS only at or above this score.
    public var actionableScore: Double = 0.5
    /// Smallest reported nodule diameter (mm). Default 3 mm.
    public var minimumDiameterMM: Double = 3
    /// Largest reported nodule diameter (mm); larger is a mass, still reported, but
    /// candidates are measured in a crop of at most this size. Default 34 mm.
    public var maximumDiameterMM: Double = 34
    /// The opening that cuts vessels off a candidate's segmentation uses a ball of this
    /// fraction of the segmentation's largest inscribed radius: a ball is unchanged by opening
    /// with a smaller ball while every vessel thinner than the ball is cut, so the larger the
    /// fraction, the thicker the vessels cut off a juxtavascular nodule. Default 0.8 (0.5
    /// left vessels up to half the nodule's radius attached; on development seed 1300 the
    /// change with the margin below and re-centring raised CPM from 0.64 to 0.67). 3D only: the
    /// 2D mode keeps 0.5, no margin and no re-centring, the segmentation its model was trained on.
    public var vesselCutFraction: Double = 0.8
    /// After that opening the nodule is grown back by this fraction of the inscribed radius
    /// (never beyond the thresholded region), so lobules and the tips of an ellipsoid that a
    /// large opening shaves off return while an attached vessel returns only as a short stub.
    /// Default 0.25. 3D only.
    public var vesselCutMarginFraction: Double = 0.25
    /// Measure a candidate again from the thickest point of its segmentation when that lies
    /// well away from it (a candidate at a nodule's junction with a vessel). Default true. 3D only.
    public var recentreCandidates: Bool = true
    /// Join the patch network's opinion (`PatchNetwork`, a small 3D CNN on the HU cube around
    /// each candidate) to the boosted trees' score, when the network is bundled. 3D series
    /// with slices at most 2.5 mm apart only (`NoduleDetector.runsPatchNetwork`). Default
    /// true; false scores with the trees alone.
    public var patchNetwork: Bool = true
    /// A solid finding within `pleuralPlateDistanceMM` (2 mm) of the pleura whose short axis
    /// is below this fraction of its long axis is a plate on the pleura (a plaque, pleural
    /// thickening), not a nodule, and is not reported (`NoduleDetector.isPleuralPlate`). 3D
    /// only. Default 0.4; 0 turns the rule off.
    public var pleuralPlateAxisRatio: Double = 0.4
    /// See `pleuralPlateAxisRatio`.
    public static let pleuralPlateDistanceMM = 2.0
    /// Whether a candidate of fat density is dropped (`NoduleDetector.isFatDensity`): at least
    /// `fatMinimumDiameterMM` across, its brightest voxel at most `fatMaximumHU` and its mean
    /// within `fatMeanHU`: a pericardial fat pad at a cardiophrenic angle (held-out E20 had one
    /// reported as a 10 mm solid 4A "nodule" outside the lung, mean -150 HU, maximum -38 HU) or
    /// a lipoma, not a nodule. A nodule that holds fat (a hamartoma) also has soft tissue above
    /// the maximum. 3D only. Default off until measured on the development sets.
    public var fatDensityRule: Bool = false
    /// See `fatDensityRule`.
    public static let fatMaximumHU = -20.0
    public static let fatMeanHU: ClosedRange<Double> = -190 ... -40
    public static let fatMinimumDiameterMM = 5.0
    /// Voxels above this inside a nodule are its solid component. Default -300 HU.
    public var solidThresholdHU: Double = -300
    /// Series with fewer slices than this are processed slice by slice in 2D. Default 5.
    public var minimumSlicesFor3D: Int = 5
    /// Worker threads for the detector's parallel loops; 0 = one per core.
    public var threads: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case workingSpacingMM = "working_spacing_mm"
        case airThresholdHU = "air_threshold_hu"
        case minimumLungVolumeML = "minimum_lung_volume_ml"
        case closingRadiusMM = "closing_radius_mm"
        case airwayWallMM = "airway_wall_mm"
        case blobScalesMM = "blob_scales_mm"
        case minimumBlobResponseHU = "minimum_blob_response_hu"
        case maximumCandidates = "maximum_candidates"
        case maximumFaintCandidates = "maximum_faint_candidates"
        case faintCandidateHU = "faint_candidate_hu"
        case maximumCoarseFaintCandidates = "maximum_coarse_faint_candidates"
        case learnedFaintOrder = "learned_faint_order"
        case faintNetworkPool = "faint_network_pool"
        case faintNetworkCandidates = "faint_network_candidates"
        case coarseFaintSigmaMM = "coarse_faint_sigma_mm"
        case minimumSeparationMM = "minimum_separation_mm"
        case hilarOpeningRadiusMM = "hilar_opening_radius_mm"
        case hilarMarginMM = "hilar_margin_mm"
        case airwayMarginMM = "airway_margin_mm"
        case mediastinalMarginMM = "mediastinal_margin_mm"
        case nearMediastinumMinimumScore = "near_mediastinum_minimum_score"
        case keepMediastinalBumps = "keep_mediastinal_bumps"
        case treesDecideNearMediastinum = "trees_decide_near_mediastinum"
        case mediastinalBumpBaseMM = "mediastinal_bump_base_mm"
        case hilarNeckRatio = "hilar_neck_ratio"
        case minimumAeratedShellFraction = "minimum_aerated_shell_fraction"
        case opacityRadiusMM = "opacity_radius_mm"
        case opacityThresholdHU = "opacity_threshold_hu"
        case calcificationHU = "calcification_hu"
        case minimumScore = "minimum_score"
        case minimumScore2D = "minimum_score_2d"
        case maximumFindings = "maximum_findings"
        case actionableScore = "actionable_score"
        case minimumDiameterMM = "minimum_diameter_mm"
        case maximumDiameterMM = "maximum_diameter_mm"
        case vesselCutFraction = "vessel_cut_fraction"
        case vesselCutMarginFraction = "vessel_cut_margin_fraction"
        case recentreCandidates = "recentre_candidates"
        case patchNetwork = "patch_network"
        case pleuralPlateAxisRatio = "pleural_plate_axis_ratio"
        case fatDensityRule = "fat_density_rule"
        case solidThresholdHU = "solid_threshold_hu"
        case minimumSlicesFor3D = "minimum_slices_for_3d"
        case threads
    }

    /// The keys a `detect:` section may hold.
    public static var validKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DetectorConfiguration()
        workingSpacingMM = try c.decodeIfPresent(Double.self, forKey: .workingSpacingMM) ?? d.workingSpacingMM
        airThresholdHU = try c.decodeIfPresent(Double.self, forKey: .airThresholdHU) ?? d.airThresholdHU
        minimumLungVolumeML = try c.decodeIfPresent(Double.self, forKey: .minimumLungVolumeML) ?? d.minimumLungVolumeML
        closingRadiusMM = try c.decodeIfPresent(Double.self, forKey: .closingRadiusMM) ?? d.closingRadiusMM
        airwayWallMM = try c.decodeIfPresent(Double.self, forKey: .airwayWallMM) ?? d.airwayWallMM
        blobScalesMM = try c.decodeIfPresent([Double].self, forKey: .blobScalesMM) ?? d.blobScalesMM
        minimumBlobResponseHU = try c.decodeIfPresent(Double.self, forKey: .minimumBlobResponseHU) ?? d.minimumBlobResponseHU
        maximumCandidates = try c.decodeIfPresent(Int.self, forKey: .maximumCandidates) ?? d.maximumCandidates
        maximumFaintCandidates = try c.decodeIfPresent(Int.self, forKey: .maximumFaintCandidates) ?? d.maximumFaintCandidates
        faintCandidateHU = try c.decodeIfPresent(Double.self, forKey: .faintCandidateHU) ?? d.faintCandidateHU
        maximumCoarseFaintCandidates = try c.decodeIfPresent(Int.self, forKey: .maximumCoarseFaintCandidates)
            ?? d.maximumCoarseFaintCandidates
        learnedFaintOrder = try c.decodeIfPresent(Bool.self, forKey: .learnedFaintOrder) ?? d.learnedFaintOrder
        faintNetworkPool = try c.decodeIfPresent(Int.self, forKey: .faintNetworkPool) ?? d.faintNetworkPool
        faintNetworkCandidates = try c.decodeIfPresent(Int.self, forKey: .faintNetworkCandidates) ?? d.faintNetworkCandidates
        coarseFaintSigmaMM = try c.decodeIfPresent(Double.self, forKey: .coarseFaintSigmaMM) ?? d.coarseFaintSigmaMM
        minimumSeparationMM = try c.decodeIfPresent(Double.self, forKey: .minimumSeparationMM) ?? d.minimumSeparationMM
        hilarOpeningRadiusMM = try c.decodeIfPresent(Double.self, forKey: .hilarOpeningRadiusMM) ?? d.hilarOpeningRadiusMM
        hilarMarginMM = try c.decodeIfPresent(Double.self, forKey: .hilarMarginMM) ?? d.hilarMarginMM
        airwayMarginMM = try c.decodeIfPresent(Double.self, forKey: .airwayMarginMM) ?? d.airwayMarginMM
        mediastinalMarginMM = try c.decodeIfPresent(Double.self, forKey: .mediastinalMarginMM) ?? d.mediastinalMarginMM
        nearMediastinumMinimumScore = try c.decodeIfPresent(Double.self, forKey: .nearMediastinumMinimumScore)
            ?? d.nearMediastinumMinimumScore
        keepMediastinalBumps = try c.decodeIfPresent(Bool.self, forKey: .keepMediastinalBumps) ?? d.keepMediastinalBumps
        treesDecideNearMediastinum = try c.decodeIfPresent(Bool.self, forKey: .treesDecideNearMediastinum)
            ?? d.treesDecideNearMediastinum
        mediastinalBumpBaseMM = try c.decodeIfPresent(Double.self, forKey: .mediastinalBumpBaseMM) ?? d.mediastinalBumpBaseMM
        hilarNeckRatio = try c.decodeIfPresent(Double.self, forKey: .hilarNeckRatio) ?? d.hilarNeckRatio
        minimumAeratedShellFraction = try c.decodeIfPresent(Double.self, forKey: .minimumAeratedShellFraction)
            ?? d.minimumAeratedShellFraction
        opacityRadiusMM = try c.decodeIfPresent(Double.self, forKey: .opacityRadiusMM) ?? d.opacityRadiusMM
        opacityThresholdHU = try c.decodeIfPresent(Double.self, forKey: .opacityThresholdHU) ?? d.opacityThresholdHU
        calcificationHU = try c.decodeIfPresent(Double.self, forKey: .calcificationHU) ?? d.calcificationHU
        minimumScore = try c.decodeIfPresent(Double.self, forKey: .minimumScore) ?? d.minimumScore
        minimumScore2D = try c.decodeIfPresent(Double.self, forKey: .minimumScore2D) ?? d.minimumScore2D
        maximumFindings = try c.decodeIfPresent(Int.self, forKey: .maximumFindings) ?? d.maximumFindings
        actionableScore = try c.decodeIfPresent(Double.self, forKey: .actionableScore) ?? d.actionableScore
        minimumDiameterMM = try c.decodeIfPresent(Double.self, forKey: .minimumDiameterMM) ?? d.minimumDiameterMM
        maximumDiameterMM = try c.decodeIfPresent(Double.self, forKey: .maximumDiameterMM) ?? d.maximumDiameterMM
        vesselCutFraction = try c.decodeIfPresent(Double.self, forKey: .vesselCutFraction) ?? d.vesselCutFraction
        vesselCutMarginFraction = try c.decodeIfPresent(Double.self, forKey: .vesselCutMarginFraction)
            ?? d.vesselCutMarginFraction
        recentreCandidates = try c.decodeIfPresent(Bool.self, forKey: .recentreCandidates) ?? d.recentreCandidates
        patchNetwork = try c.decodeIfPresent(Bool.self, forKey: .patchNetwork) ?? d.patchNetwork
        pleuralPlateAxisRatio = try c.decodeIfPresent(Double.self, forKey: .pleuralPlateAxisRatio) ?? d.pleuralPlateAxisRatio
        fatDensityRule = try c.decodeIfPresent(Bool.self, forKey: .fatDensityRule) ?? d.fatDensityRule
        solidThresholdHU = try c.decodeIfPresent(Double.self, forKey: .solidThresholdHU) ?? d.solidThresholdHU
        minimumSlicesFor3D = try c.decodeIfPresent(Int.self, forKey: .minimumSlicesFor3D) ?? d.minimumSlicesFor3D
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        try validate()
    }

    /// Checks value ranges; throws `DetectionError.invalidConfiguration` naming the key.
    public func validate() throws {
        func bad(_ key: CodingKeys, _ why: String) -> DetectionError {
            .invalidConfiguration(key: key.rawValue, reason: why)
        }
        guard workingSpacingMM >= 0.3 && workingSpacingMM <= 4 else { throw bad(.workingSpacingMM, "must be 0.3...4 mm") }
        guard closingRadiusMM >= 0 && closingRadiusMM <= 40 else { throw bad(.closingRadiusMM, "must be 0...40 mm") }
        guard airwayWallMM >= 0 && airwayWallMM <= 10 else { throw bad(.airwayWallMM, "must be 0...10 mm") }
        guard minimumLungVolumeML >= 0 else { throw bad(.minimumLungVolumeML, "must be >= 0") }
        guard !blobScalesMM.isEmpty, blobScalesMM.allSatisfy({ $0 > 0.2 && $0 < 30 }) else {
            throw bad(.blobScalesMM, "must be a non-empty list of scales between 0.2 and 30 mm")
        }
        guard minimumBlobResponseHU >= 0 else { throw bad(.minimumBlobResponseHU, "must be >= 0") }
        guard maximumCandidates >= 1 && maximumCandidates <= 100_000 else { throw bad(.maximumCandidates, "must be 1...100000") }
        guard maximumFaintCandidates >= 0 && maximumFaintCandidates <= 100_000 else {
            throw bad(.maximumFaintCandidates, "must be 0...100000")
        }
        guard faintNetworkPool >= 1 && faintNetworkPool <= 100_000 else {
            throw bad(.faintNetworkPool, "must be 1...100000")
        }
        guard faintNetworkCandidates >= 0 && faintNetworkCandidates <= 100_000 else {
            throw bad(.faintNetworkCandidates, "must be 0...100000")
        }
        guard faintCandidateHU > -1000 && faintCandidateHU < 0 else { throw bad(.faintCandidateHU, "must be between -1000 and 0 HU") }
        guard maximumCoarseFaintCandidates >= 0 && maximumCoarseFaintCandidates <= 100_000 else {
            throw bad(.maximumCoarseFaintCandidates, "must be 0...100000")
        }
        guard coarseFaintSigmaMM > 0 && coarseFaintSigmaMM < 30 else { throw bad(.coarseFaintSigmaMM, "must be between 0 and 30 mm") }
        guard minimumSeparationMM >= 0 else { throw bad(.minimumSeparationMM, "must be >= 0") }
        guard hilarOpeningRadiusMM >= 0 && hilarOpeningRadiusMM <= 20 else { throw bad(.hilarOpeningRadiusMM, "must be 0...20 mm") }
        guard hilarMarginMM >= 0 && hilarMarginMM <= 20 else { throw bad(.hilarMarginMM, "must be 0...20 mm") }
        guard mediastinalBumpBaseMM >= 0 && mediastinalBumpBaseMM <= 10 else {
            throw bad(.mediastinalBumpBaseMM, "must be 0...10 mm")
        }
        guard hilarNeckRatio >= 0 && hilarNeckRatio < 1 else { throw bad(.hilarNeckRatio, "must be at least 0 and below 1") }
        guard pleuralPlateAxisRatio >= 0 && pleuralPlateAxisRatio <= 1 else {
            throw bad(.pleuralPlateAxisRatio, "must be in [0, 1]")
        }
        guard minimumAeratedShellFraction >= 0 && minimumAeratedShellFraction <= 1 else {
            throw bad(.minimumAeratedShellFraction, "must be in [0, 1]")
        }
        guard airwayMarginMM >= 0 && airwayMarginMM <= 20 else { throw bad(.airwayMarginMM, "must be 0...20 mm") }
        guard mediastinalMarginMM >= 0 && mediastinalMarginMM <= 20 else {
            throw bad(.mediastinalMarginMM, "must be 0...20 mm")
        }
        guard nearMediastinumMinimumScore >= 0 && nearMediastinumMinimumScore.isFinite else {
            throw bad(.nearMediastinumMinimumScore, "must be a number >= 0")
        }
        guard opacityRadiusMM >= 0 && opacityRadiusMM <= 20 else { throw bad(.opacityRadiusMM, "must be 0...20 mm") }
        guard opacityThresholdHU >= -900 && opacityThresholdHU <= 0 else {
            throw bad(.opacityThresholdHU, "must be -900...0 HU")
        }
        guard calcificationHU == 0 || (calcificationHU >= 100 && calcificationHU <= 3000) else {
            throw bad(.calcificationHU, "must be 0 (off) or 100...3000 HU")
        }
        guard minimumScore >= 0 && minimumScore <= 1 else { throw bad(.minimumScore, "must be in [0, 1]") }
        guard minimumScore2D >= 0 && minimumScore2D <= 1 else { throw bad(.minimumScore2D, "must be in [0, 1]") }
        guard actionableScore >= 0 && actionableScore <= 1 else { throw bad(.actionableScore, "must be in [0, 1]") }
        guard maximumFindings >= 1 else { throw bad(.maximumFindings, "must be >= 1") }
        guard minimumDiameterMM >= 0, maximumDiameterMM > minimumDiameterMM, maximumDiameterMM <= 80 else {
            throw bad(.maximumDiameterMM, "need 0 <= minimum_diameter_mm < maximum_diameter_mm <= 80")
        }
        guard vesselCutFraction >= 0 && vesselCutFraction < 1 else { throw bad(.vesselCutFraction, "must be in [0, 1)") }
        guard vesselCutMarginFraction >= 0 && vesselCutMarginFraction <= 1 else {
            throw bad(.vesselCutMarginFraction, "must be in [0, 1]")
        }
        guard minimumSlicesFor3D >= 2 else { throw bad(.minimumSlicesFor3D, "must be >= 2") }
        guard threads >= 0 && threads <= 256 else { throw bad(.threads, "must be 0...256") }
    }

    /// Worker count actually used.
    var workerCount: Int {
        threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

import Foundation

/// Errors the detector reports instead of crashing.
public enum DetectionError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(key: String, reason: String)
    case emptyVolume
    case noLungs(reason: String)
    case modelUnreadable(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(key, reason): "detect.\(key): \(reason)"
        case .emptyVolume: "the series has no voxels"
        case let .noLungs(reason): "no lungs found: \(reason)"
        case let .modelUnreadable(why): "false-positive model unreadable: \(why)"
        }
    }
}
