import Foundation

/// truth.json (schema "triage.truth.v1"): per case its identifiers and, per nodule, the
/// centre in LPS mm (through the same affine the stored series states), the diameter of
/// the sphere of equal volume, the volume of the rendered shape, and its classes.
public struct PhantomTruth: Codable, Sendable {
    public var schema = "triage.truth.v1"
    public var seed: UInt64
    public var generator: String
    public var options: PhantomOptions?
    public var cases: [Case]

    public struct Case: Codable, Sendable {
        public var caseID: String
        public var patientID: String
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var folder: String
        public var format: String
        public var slices: Int
        public var rows: Int
        public var columns: Int
        public var pixelSpacingMM: Double
        public var sliceSpacingMM: Double
        public var storage: PhantomStorage?
        /// Emphysema severity in (0, 1]; absent when the case has none.
        public var emphysemaSeverity: Double?
        /// Whether that emphysema has a paraseptal component; absent without emphysema.
        public var emphysemaParaseptal: Bool?
        /// Dependent atelectasis severity in (0, 1]; absent when the case has none.
        public var atelectasisSeverity: Double?
        /// Pleural effusion; absent when the case has none.
        public var pleuralEffusion: Effusion?
        /// Lobar consolidation; absent when the case has none.
        public var consolidation: ConsolidationRegion?
        /// Multifocal ground-glass patches; absent when the case has none.
        public var groundGlassOpacities: [GroundGlassPatch]?
        /// Nodules drawn for the case but left out because the effusion, consolidation or a
        /// ground-glass patch would cover them; absent when none.
        public var nodulesCoveredByPathology: [String]?
        /// Breathing artefact; absent when the case has none.
        public var respiratoryMotion: Motion?
        /// Photon-starvation streaks: their amplitude at the shoulders (HU) and the LPS z (mm)
        /// from which they are at full strength; absent when the case has none.
        public var streaks: Streaks?
        /// Beam hardening: its error coefficient (per mm); absent when the case has none.
        public var beamHardening: BeamHardeningTruth?
        /// Cardiac pacemaker; absent when the case has none.
        public var cardiacDevice: Device?
        /// Calcified granulomas (benign, Lung-RADS category 1; not nodules to find); absent
        /// when the case has none.
        public var calcifiedGranulomas: [Calcification]?
        /// Coronary arteries (drawn on request) and their calcified plaques (empty list: none);
        /// absent when the case has no arteries drawn.
        public var coronaryPlaques: [Calcification]?
        /// Calcified plaque in the aortic wall (each ball of it); absent when the case has none.
        public var aorticPlaques: [Calcification]?
        /// Calcium in the aortic valve's cusps (each ball of it); absent when the case has none.
        public var aorticValveCalcifications: [Calcification]? = nil
        /// Calcium in the mitral annulus (each ball of it); absent when the case has none.
        public var mitralAnnularCalcifications: [Calcification]? = nil
        /// Parenchymal bands (linear scars; not nodules: a finding on one is a false
        /// positive); absent when the case has none.
        public var parenchymalBands: [Band]?
        /// Cylindrical bronchiectasis; absent when the case has none.
        public var bronchiectasis: WidenedBronchi?
        public var nodules: [Nodule]
        /// Fibrotic interstitial lung disease; absent when the case has none.
        public var interstitialFibrosis: Fibrosis? = nil
        /// Pleural plaques (parietal pleura, outside the lungs; not nodules: a finding on one
        /// is a false positive outside the lungs); absent when the case has none.
        public var pleuralPlaques: [Plaque]? = nil
        /// Cardiac pulsation artefact (the picture near the heart, not the anatomy); absent when
        /// the case has none.
        public var cardiacPulsation: Pulsation? = nil
        /// Pericardial fat pads at the cardiophrenic angles (outside the lungs; not nodules);
        /// absent when the case has none.
        public var cardiophrenicFatPads: [FatPad]? = nil

        enum CodingKeys: String, CodingKey {
            case caseID = "case_id", patientID = "patient_id", studyInstanceUID = "study_instance_uid"
            case seriesInstanceUID = "series_instance_uid", folder, format, slices, rows, columns
            case pixelSpacingMM = "pixel_spacing_mm", sliceSpacingMM = "slice_spacing_mm", storage, nodules
            case emphysemaSeverity = "emphysema_severity", emphysemaParaseptal = "emphysema_paraseptal"
            case atelectasisSeverity = "atelectasis_severity"
            case pleuralEffusion = "pleural_effusion", consolidation
            case groundGlassOpacities = "ground_glass_opacities"
            case nodulesCoveredByPathology = "nodules_covered_by_pathology"
            case respiratoryMotion = "respiratory_motion", streaks
            case beamHardening = "beam_hardening"
            case cardiacDevice = "cardiac_device"
            case calcifiedGranulomas = "calcified_granulomas"
            case coronaryPlaques = "coronary_calcified_plaques"
            case aorticPlaques = "aortic_calcified_plaques"
            case aorticValveCalcifications = "aortic_valve_calcifications"
            case mitralAnnularCalcifications = "mitral_annular_calcifications"
            case parenchymalBands = "parenchymal_bands"
            case bronchiectasis
            case interstitialFibrosis = "interstitial_fibrosis"
            case pleuralPlaques = "pleural_plaques"
            case cardiacPulsation = "cardiac_pulsation"
            case cardiophrenicFatPads = "cardiophrenic_fat_pads"
        }
    }

    /// A pericardial fat pad: the side, the centroid (LPS mm) and volume (ml) of the fat the
    /// scan shows (outside the heart and its epicardial fat), and its mean HU.
    public struct FatPad: Codable, Sendable {
        public var side: String
        public var centerMM: [Double]
        public var volumeML: Double
        public var hu: Double

        enum CodingKeys: String, CodingKey {
            case side, centerMM = "center_mm", volumeML = "volume_ml", hu
        }
    }

    /// A pleural plaque: the centre of its footprint on the lung's surface (LPS mm), the unit
    /// normal there pointing into the lung, the footprint's length and width along the surface
    /// (mm), the thickness of its flat top (mm), its HU, the HU of its calcified layer (absent
    /// when not calcified), the lung it faces and whether it lies on the chest wall (`costal`)
    /// or the dome of the diaphragm (`diaphragmatic`).
    public struct Plaque: Codable, Sendable {
        public var centerMM: [Double]
        public var inwardNormal: [Double]
        public var lengthMM: Double
        public var widthMM: Double
        public var thicknessMM: Double
        public var hu: Double
        public var calciumHU: Double?
        public var lung: String
        public var location: String

        enum CodingKeys: String, CodingKey {
            case centerMM = "center_mm", inwardNormal = "inward_normal", lengthMM = "length_mm", widthMM = "width_mm"
            case thicknessMM = "thickness_mm", hu, calciumHU = "calcium_hu", lung, location
        }
    }

    /// Fibrotic interstitial lung disease: its severity (0.4-1), whether it has honeycombing,
    /// the septal network's cell size, the honeycomb cysts' size (absent without), and how deep
    /// from the pleura the reticulation and the honeycomb layer reach where the disease is
    /// strongest (lung base, posteriorly; less towards the middle zone, none in the upper).
    public struct Fibrosis: Codable, Sendable {
        public var severity: Double
        public var honeycombing: Bool
        public var lobuleMM: Double
        public var cystMM: Double?
        public var maximumDepthMM: Double
        public var honeycombDepthMM: Double?
        /// Traction bronchiectasis: how far (mm) deeper than the reticulation the bronchi are
        /// pulled open, and the range of their widening factors; absent without.
        public var tractionBronchiectasis: Traction?

        public struct Traction: Codable, Sendable {
            public var marginMM: Double
            public var dilation: [Double]
            enum CodingKeys: String, CodingKey { case marginMM = "margin_mm", dilation }
        }

        enum CodingKeys: String, CodingKey {
            case severity, honeycombing, lobuleMM = "lobule_mm", cystMM = "cyst_mm"
            case maximumDepthMM = "maximum_depth_mm", honeycombDepthMM = "honeycomb_depth_mm"
            case tractionBronchiectasis = "traction_bronchiectasis"
        }
    }

    /// A breathing artefact: the LPS z (mm) of the first and last slice of its band (as
    /// stored, whatever the files' order) and how far (mm, + cranial) the anatomy they show
    /// is displaced.
    public struct Motion: Codable, Sendable {
        public var fromZMM: Double
        public var toZMM: Double
        public var shiftMM: Double

        enum CodingKeys: String, CodingKey {
            case fromZMM = "from_z_mm", toZMM = "to_z_mm", shiftMM = "shift_mm"
        }
    }

    /// A cardiac pacemaker: the generator's side and centre (LPS mm), the number of leads,
    /// the LPS z range (mm) of its metal (where its streaks are), their amplitude near the
    /// generator (HU) and, after a sternotomy, the heights of the sternal wires.
    public struct Device: Codable, Sendable {
        public var generatorSide: String
        public var generatorCenterMM: [Double]
        public var leads: Int
        public var metalZRangeMM: [Double]
        public var streakHU: Double
        /// LPS z (mm) of each sternal wire loop; absent without a sternotomy.
        public var sternalWiresZMM: [Double]?

        enum CodingKeys: String, CodingKey {
            case generatorSide = "generator_side", generatorCenterMM = "generator_center_mm", leads
            case metalZRangeMM = "metal_z_range_mm", streakHU = "streak_hu", sternalWiresZMM = "sternal_wires_z_mm"
        }
    }

    /// Cylindrical bronchiectasis: the lobe (such as "right lower"), the lumen's widening over
    /// normal, the least fraction of its parent's normal lumen a bronchus's normal lumen is taken
    /// as, and the wall's thickening.
    public struct WidenedBronchi: Codable, Sendable {
        public var lobe: String
        public var dilation: Double
        public var taper: Double
        public var wallThickening: Double
        /// Absent when the bronchi hold no mucus (`--mucus-plug-fraction`).
        public var mucusPlugs: MucusPlugged?
        /// Cysts at the bronchi's ends (`--bronchial-cyst-fraction`); absent when none.
        public var cysts: [BronchialCyst]? = nil

        enum CodingKeys: String, CodingKey {
            case lobe, dilation, taper, wallThickening = "wall_thickening", mucusPlugs = "mucus_plugs", cysts
        }
    }

    /// A bronchial cyst: its centre (LPS mm), lumen diameter and wall thickness (mm), how much
    /// of its height holds fluid (0 air, 1 full, between: an air-fluid level, the fluid
    /// posterior) and the fluid's HU (absent when it holds air). Not a nodule: a finding on one
    /// is a false positive in the lung.
    public struct BronchialCyst: Codable, Sendable {
        public var centerMM: [Double]
        public var diameterMM: Double
        public var wallMM: Double
        public var fluidFraction: Double
        public var fluidHU: Double?

        enum CodingKeys: String, CodingKey {
            case centerMM = "center_mm", diameterMM = "diameter_mm", wallMM = "wall_mm"
            case fluidFraction = "fluid_fraction", fluidHU = "fluid_hu"
        }
    }

    /// Mucus-plugged bronchi: the mucus HU (before the point spread), the number of plugged
    /// branches, and every plugged segment as its two end points (LPS mm, 6 numbers) and the
    /// lumen radius (mm) at its larger end.
    public struct MucusPlugged: Codable, Sendable {
        public var hu: Double
        public var branches: Int
        public var segmentsMM: [[Double]]
        public var lumenRadiiMM: [Double]

        enum CodingKeys: String, CodingKey {
            case hu, branches, segmentsMM = "segments_mm", lumenRadiiMM = "lumen_radii_mm"
        }
    }

    /// A parenchymal band: its axis as a polyline (LPS mm) from the pleura inwards, its
    /// thickness (mm) at the pleural end (it thins by 40 % to the inner end, and thickens to
    /// twice that where it meets the chest wall), its length (mm) and HU before the point spread.
    public struct Band: Codable, Sendable {
        public var pointsMM: [[Double]]
        public var thicknessMM: Double
        public var lengthMM: Double
        public var hu: Double

        enum CodingKeys: String, CodingKey {
            case pointsMM = "points_mm", thicknessMM = "thickness_mm", lengthMM = "length_mm", hu
        }
    }

    /// A calcified granuloma or coronary or aortic plaque: centre (LPS mm), diameter (mm) and the HU of
    /// its calcium before the point spread.
    public struct Calcification: Codable, Sendable {
        public var centerMM: [Double]
        public var diameterMM: Double
        public var hu: Double

        enum CodingKeys: String, CodingKey {
            case centerMM = "center_mm", diameterMM = "diameter_mm", hu
        }
    }

    /// A cardiac pulsation artefact: the largest displacement of the left heart border between
    /// the two phases a slice shows (mm), the displaced image's weight, how far outside the
    /// heart the displacement reaches (mm), and the table travel per heartbeat (mm; the period
    /// of the displacement along z).
    public struct Pulsation: Codable, Sendable {
        public var amplitudeMM: Double
        public var ghostWeight: Double
        public var reachMM: Double
        public var beatMM: Double

        enum CodingKeys: String, CodingKey {
            case amplitudeMM = "amplitude_mm", ghostWeight = "ghost_weight", reachMM = "reach_mm", beatMM = "beat_mm"
        }
    }

    /// Beam hardening: a ray crossing p mm of dense excess ((HU - 100) / 1000 above 100 HU, at most 1.9)
    /// loses k p^2 of it (`BeamHardening`).
    public struct BeamHardeningTruth: Codable, Sendable {
        public var coefficientPerMM: Double

        enum CodingKeys: String, CodingKey { case coefficientPerMM = "coefficient_per_mm" }
    }

    /// Photon-starvation streaks: amplitude at full strength (HU), the LPS z (mm) from which
    /// they are at full strength, and the distance (mm) below it over which they fade out.
    public struct Streaks: Codable, Sendable {
        public var amplitudeHU: Double
        public var fullStrengthZMM: Double
        public var fadeMM: Double

        enum CodingKeys: String, CodingKey {
            case amplitudeHU = "amplitude_hu", fullStrengthZMM = "full_strength_z_mm", fadeMM = "fade_mm"
        }
    }

    /// A pleural effusion: which side(s), its greatest depth, and the LPS z (mm) above which
    /// there is none.
    public struct Effusion: Codable, Sendable {
        public var sides: String
        public var maximumThicknessMM: Double
        public var topZMM: Double

        enum CodingKeys: String, CodingKey {
            case sides, maximumThicknessMM = "maximum_thickness_mm", topZMM = "top_z_mm"
        }
    }

    /// A consolidation: the centre (LPS mm) and semi-axes of the ellipsoid it is drawn from
    /// (its outline is irregular and cut by the lobe's fissures), lung and lobe, mean HU.
    public struct ConsolidationRegion: Codable, Sendable {
        public var centerMM: [Double]
        public var semiAxesMM: [Double]
        public var lobe: String
        public var hu: Double

        enum CodingKeys: String, CodingKey {
            case centerMM = "center_mm", semiAxesMM = "semi_axes_mm", lobe, hu
        }
    }

    /// A ground-glass patch: the centre (LPS mm) and semi-axes of the ellipsoid it is drawn
    /// from (its outline is ragged and its edge fades over 3 mm), lung, mean HU, and whether
    /// septa are drawn over it (crazy paving).
    public struct GroundGlassPatch: Codable, Sendable {
        public var centerMM: [Double]
        public var semiAxesMM: [Double]
        public var lung: String
        public var hu: Double
        public var crazyPaving: Bool

        enum CodingKeys: String, CodingKey {
            case centerMM = "center_mm", semiAxesMM = "semi_axes_mm", lung, hu, crazyPaving = "crazy_paving"
        }
    }

    public struct Nodule: Codable, Sendable {
        public var id: String
        public var centerMM: [Double]
        public var diameterMM: Double
        public var volumeMM3: Double
        public var type: String
        public var shape: String
        public var location: String
        /// Longest and shortest extent through the centre (mm), for Lung-RADS-style checks.
        public var longAxisMM: Double
        public var shortAxisMM: Double

        enum CodingKeys: String, CodingKey {
            case id, type, shape, location
            case centerMM = "center_mm", diameterMM = "diameter_mm", volumeMM3 = "volume_mm3"
            case longAxisMM = "long_axis_mm", shortAxisMM = "short_axis_mm"
        }
    }

    /// The truth entry of a case written in `folder` (relative path) as `format`.
    public static func entry(for phantom: PhantomCase, folder: String, format: String,
                             seriesInstanceUID: String? = nil) -> Case {
        // A ball of calcium as truth.json gives it: LPS centre, diameter, HU.
        func calcification(_ ball: CalciumBall) -> Calcification {
            let c = phantom.patientPosition(ofAnatomy: ball.center)
            return Calcification(centerMM: [c.x, c.y, c.z].map { ($0 * 1000).rounded() / 1000 },
                                 diameterMM: (2 * ball.radiusMM * 1000).rounded() / 1000,
                                 hu: (ball.hu * 10).rounded() / 10)
        }
        let nodules = phantom.nodules.map { n -> Nodule in
            let volume = n.volumeMM3()
            let c = phantom.patientPosition(ofAnatomy: n.center)
            let axes = n.axesThroughCentre()
            return Nodule(id: n.id, centerMM: [c.x, c.y, c.z].map { ($0 * 1000).rounded() / 1000 },
                          diameterMM: (pow(6 * volume / Double.pi, 1.0 / 3.0) * 1000).rounded() / 1000,
                          volumeMM3: (volume * 10).rounded() / 10, type: n.type.rawValue, shape: n.shape.rawValue,
                          location: n.location.rawValue, longAxisMM: (axes.long * 100).rounded() / 100,
                          shortAxisMM: (axes.short * 100).rounded() / 100)
        }
        var entry = Case(caseID: phantom.caseID, patientID: phantom.identity.patientID,
                    studyInstanceUID: phantom.identity.studyInstanceUID,
                    seriesInstanceUID: seriesInstanceUID ?? phantom.identity.seriesInstanceUID,
                    folder: folder, format: format, slices: phantom.slices, rows: phantom.rows,
                    columns: phantom.columns, pixelSpacingMM: phantom.pixelSpacingMM,
                    sliceSpacingMM: phantom.sliceSpacingMM, storage: format == "dicom" ? phantom.storage : nil,
                    emphysemaSeverity: phantom.emphysemaSeverity > 0
                        ? (phantom.emphysemaSeverity * 1000).rounded() / 1000 : nil,
                    emphysemaParaseptal: phantom.emphysemaSeverity > 0 ? phantom.paraseptalEmphysema : nil,
                    atelectasisSeverity: phantom.atelectasisSeverity > 0
                        ? (phantom.atelectasisSeverity * 1000).rounded() / 1000 : nil,
                    pleuralEffusion: phantom.pleuralEffusion.map { e in
                        Effusion(sides: e.sides[0] && e.sides[1] ? "both" : (e.sides[0] ? "right" : "left"),
                                 maximumThicknessMM: (e.maximumThicknessMM * 10).rounded() / 10,
                                 topZMM: (phantom.patientPosition(ofAnatomy: SIMD3(0, 0, e.topZ)).z * 10).rounded() / 10)
                    },
                    consolidation: phantom.consolidation.map { c in
                        let p = phantom.patientPosition(ofAnatomy: c.center)
                        let names = c.side == 0 ? ["right upper", "right middle", "right lower"] : ["left upper", "left lower"]
                        return ConsolidationRegion(centerMM: [p.x, p.y, p.z].map { ($0 * 10).rounded() / 10 },
                                                   semiAxesMM: [c.semiAxesMM.x, c.semiAxesMM.y, c.semiAxesMM.z].map { ($0 * 10).rounded() / 10 },
                                                   lobe: names[c.lobe], hu: (c.hu * 10).rounded() / 10)
                    },
                    groundGlassOpacities: phantom.groundGlass.map { g in
                        g.patches.map { patch in
                            let p = phantom.patientPosition(ofAnatomy: patch.center)
                            return GroundGlassPatch(centerMM: [p.x, p.y, p.z].map { ($0 * 10).rounded() / 10 },
                                                    semiAxesMM: [patch.semiAxesMM.x, patch.semiAxesMM.y, patch.semiAxesMM.z]
                                                        .map { ($0 * 10).rounded() / 10 },
                                                    lung: patch.side == 0 ? "right" : "left",
                                                    hu: (patch.hu * 10).rounded() / 10, crazyPaving: patch.crazyPaving)
                        }
                    },
                    nodulesCoveredByPathology: phantom.nodulesCoveredByPathology.isEmpty ? nil : phantom.nodulesCoveredByPathology,
                    respiratoryMotion: phantom.respiratoryMotion.map { m in
                        func z(_ k: Int) -> Double {
                            let lps = phantom.patientPosition(ofAnatomy: SIMD3(0, 0, phantom.gridOrigin.z + Double(k) * phantom.sliceSpacingMM))
                            return (lps.z * 1000).rounded() / 1000
                        }
                        return Motion(fromZMM: z(m.firstSlice), toZMM: z(m.lastSlice), shiftMM: (m.shiftMM * 100).rounded() / 100)
                    },
                    streaks: phantom.streaks.map { s in
                        Streaks(amplitudeHU: (s.amplitudeHU * 10).rounded() / 10,
                                fullStrengthZMM: (phantom.patientPosition(ofAnatomy: SIMD3(0, 0, s.fullZ)).z * 10).rounded() / 10,
                                fadeMM: (s.fadeMM * 10).rounded() / 10)
                    },
                    beamHardening: phantom.beamHardening.map {
                        BeamHardeningTruth(coefficientPerMM: ($0.coefficientPerMM * 1e5).rounded() / 1e5)
                    },
                    cardiacDevice: phantom.cardiacDevice.map { d in
                        let c = phantom.patientPosition(ofAnatomy: d.generatorCenter)
                        let zs = [d.zRange.lowerBound, d.zRange.upperBound].map {
                            (phantom.patientPosition(ofAnatomy: SIMD3(0, 0, $0)).z * 10).rounded() / 10
                        }
                        return Device(generatorSide: d.side == 0 ? "right" : "left",
                                      generatorCenterMM: [c.x, c.y, c.z].map { ($0 * 10).rounded() / 10 },
                                      leads: d.leads.count, metalZRangeMM: [zs.min()!, zs.max()!],
                                      streakHU: (d.streakHU * 10).rounded() / 10,
                                      sternalWiresZMM: d.sternalWireZ.isEmpty ? nil : d.sternalWireZ.map {
                                          (phantom.patientPosition(ofAnatomy: SIMD3(0, 0, $0)).z * 10).rounded() / 10
                                      })
                    },
                    calcifiedGranulomas: phantom.granulomas.map { $0.granulomas.map(calcification) },
                    coronaryPlaques: phantom.coronaries.map { $0.plaques.map(calcification) },
                    aorticPlaques: phantom.aorticPlaques.map { $0.map(calcification) },
                    parenchymalBands: phantom.parenchymalBands.map { $0.map { band in
                        let axis = band.segments.dropFirst()
                        let points = [axis.first!.start] + axis.map(\.end)
                        return Band(pointsMM: points.map { p in
                                        let c = phantom.patientPosition(ofAnatomy: p)
                                        return [c.x, c.y, c.z].map { ($0 * 1000).rounded() / 1000 }
                                    },
                                    thicknessMM: (2 * axis.first!.startRadiusMM * 1000).rounded() / 1000,
                                    lengthMM: (axis.reduce(0) { $0 + $1.lengthMM } * 10).rounded() / 10,
                                    hu: (band.hu * 10).rounded() / 10)
                    } },
                    bronchiectasis: phantom.bronchiectasis.map { b in
                        WidenedBronchi(lobe: b.side == 0 ? "right lower" : "left lower",
                                       dilation: (b.dilation * 1000).rounded() / 1000,
                                       taper: (b.taper * 1000).rounded() / 1000,
                                       wallThickening: (b.wallThickening * 1000).rounded() / 1000,
                                       mucusPlugs: phantom.mucusPlugged(),
                                       cysts: phantom.bronchialCysts.map { cysts in
                                           let fluid = phantom.mucusPlugs?.hu ?? cysts.fluidHU
                                           return cysts.cysts.map { c in
                                               let p = phantom.patientPosition(ofAnatomy: c.center)
                                               return BronchialCyst(centerMM: [p.x, p.y, p.z].map { ($0 * 100).rounded() / 100 },
                                                                    diameterMM: (2 * c.radiusMM * 100).rounded() / 100,
                                                                    wallMM: (c.wallMM * 100).rounded() / 100,
                                                                    fluidFraction: (c.fluidFraction * 1000).rounded() / 1000,
                                                                    fluidHU: c.fluidFraction > 0 ? (fluid * 10).rounded() / 10 : nil)
                                           }
                                       })
                    },
                    nodules: nodules)
        entry.aorticValveCalcifications = phantom.valveCalcium.map { $0.map(calcification) }
        entry.mitralAnnularCalcifications = phantom.mitralCalcium.map { $0.map(calcification) }
        entry.cardiacPulsation = phantom.cardiacPulsation.map { p in
            Pulsation(amplitudeMM: (p.amplitudeMM * 100).rounded() / 100, ghostWeight: (p.ghostWeight * 100).rounded() / 100,
                      reachMM: (p.reachMM * 10).rounded() / 10, beatMM: (p.beatMM * 10).rounded() / 10)
        }
        let pads = phantom.anatomy.cardiophrenicFat
        entry.cardiophrenicFatPads = pads.isEmpty ? nil : pads.map { pad in
            let fat = pad.visibleFat(anatomy: phantom.anatomy)
            let c = phantom.patientPosition(ofAnatomy: fat.centroid)
            return FatPad(side: pad.side == 0 ? "right" : "left", centerMM: [c.x, c.y, c.z].map { ($0 * 100).rounded() / 100 },
                          volumeML: (fat.volumeMM3 / 100).rounded() / 10, hu: (pad.hu * 10).rounded() / 10)
        }
        entry.pleuralPlaques = phantom.pleuralPlaques.map { $0.map { plaque in
            func r(_ v: Double, _ k: Double = 10) -> Double { (v * k).rounded() / k }
            let c = phantom.patientPosition(ofAnatomy: plaque.center)
            return Plaque(centerMM: [c.x, c.y, c.z].map { r($0, 1000) },
                          inwardNormal: [plaque.inward.x, plaque.inward.y, plaque.inward.z].map { r($0, 1000) },
                          lengthMM: r(2 * plaque.halfLengthMM), widthMM: r(2 * plaque.halfWidthMM),
                          thicknessMM: r(plaque.thicknessMM, 100), hu: r(plaque.hu), calciumHU: plaque.calciumHU.map { r($0) },
                          lung: plaque.side == 0 ? "right" : "left", location: plaque.onDiaphragm ? "diaphragmatic" : "costal")
        } }
        entry.interstitialFibrosis = phantom.interstitialFibrosis.map { f in
            func r(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
            return Fibrosis(severity: r(f.severity), honeycombing: f.honeycombing, lobuleMM: r(f.lobuleMM),
                            cystMM: f.honeycombing ? r(f.cystMM) : nil, maximumDepthMM: r(f.maximumDepthMM),
                            honeycombDepthMM: f.honeycombing ? r(f.honeycombDepthMM) : nil,
                            tractionBronchiectasis: phantom.tractionBronchiectasis.map {
                                Fibrosis.Traction(marginMM: r($0.marginMM),
                                                  dilation: [TractionBronchiectasis.dilationRange.lowerBound,
                                                             TractionBronchiectasis.dilationRange.upperBound])
                            })
        }
        return entry
    }
}

extension PhantomNodule {
    /// Longest and shortest chord through the centre (mm), over many directions.
    func axesThroughCentre() -> (long: Double, short: Double) {
        var r = PhantomRandom(seed: 77)
        var long = 0.0, short = Double.infinity
        for _ in 0..<400 {
            let d = r.unitVector()
            func extent(_ dir: SIMD3<Double>) -> Double {
                var lo = 0.0, hi = boundingRadiusMM * 1.1
                for _ in 0..<30 {
                    let m = (lo + hi) / 2
                    if distance(center + dir * m) < 0 { lo = m } else { hi = m }
                }
                return lo
            }
            let chord = extent(d) + extent(-d)
            long = Swift.max(long, chord); short = Swift.min(short, chord)
        }
        return (long, short)
    }
}

extension PhantomCase {
    /// Truth for the mucus plugs, nil when none.
    func mucusPlugged() -> PhantomTruth.MucusPlugged? {
        guard let plugs = mucusPlugs else { return nil }
        func rounded(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        var segments: [[Double]] = [], radii: [Double] = []
        for (segment, plugged) in zip(airwaySegments, airwayIsPlugged) where plugged {
            let a = patientPosition(ofAnatomy: segment.start), b = patientPosition(ofAnatomy: segment.end)
            segments.append([a.x, a.y, a.z, b.x, b.y, b.z].map(rounded))
            radii.append(rounded(segment.maxRadiusMM))
        }
        return PhantomTruth.MucusPlugged(hu: (plugs.hu * 10).rounded() / 10, branches: plugs.count,
                                         segmentsMM: segments, lumenRadiiMM: radii)
    }
}

