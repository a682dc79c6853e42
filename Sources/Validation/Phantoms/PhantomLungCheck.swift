import Foundation

/// Checks that findings lie inside a phantom's lungs, using the phantom's own analytic lung
/// surfaces (re-planned from the truth file's seed and options; nothing is rendered). The
/// detection issue asks for "no finding outside the lungs on any scan": the detector's
/// findings are inside its own lung mask by construction, so only the generator's geometry
/// is an independent answer.
public enum PhantomLungCheck {
    /// One finding and how far outside the lungs its centre is.
    public struct Outside: Sendable, Equatable {
        public var caseID: String
        public var centerMM: SIMD3<Double>
        /// Distance from the centre to the nearest lung surface (mm, positive = outside); a
        /// centre in a pleural effusion or a pleural plaque counts as outside by its depth in it.
        public var distanceOutsideMM: Double
    }

    public struct Result: Sendable {
        /// Findings checked, and those whose centre lies more than the margin outside.
        public var checked = 0
        public var outside: [Outside] = []
        /// Cases of the truth file that could not be re-planned (no options, another seed).
        public var skippedCases: [String] = []
    }

    /// `findings` maps a Series Instance UID to its findings' centres (LPS mm). A centre counts
    /// as outside when it lies more than `marginMM` outside both lungs' surfaces.
    public static func check(truth: PhantomTruth, findings: [String: [SIMD3<Double>]],
                             marginMM: Double = 0) -> Result {
        var result = Result()
        guard let options = truth.options else {
            result.skippedCases = truth.cases.map(\.caseID)
            return result
        }
        let generator = PhantomGenerator(options: options, seed: truth.seed)
        var plans: [Int: PhantomCase] = [:]
        for entry in truth.cases {
            guard let centers = findings[entry.seriesInstanceUID], !centers.isEmpty else { continue }
            // Cases are written as case-NNN, NNN being the generation index.
            guard let index = Int(entry.caseID.filter(\.isNumber)) else {
                result.skippedCases.append(entry.caseID)
                continue
            }
            let plan = plans[index] ?? generator.plan(case: index)
            plans[index] = plan
            // A merged or edited truth file may hold cases of another seed: their patient ID
            // (which carries the seed) tells.
            guard plan.identity.patientID == entry.patientID else {
                result.skippedCases.append(entry.caseID)
                continue
            }
            let offset = plan.patientPosition(ofAnatomy: .zero)
            for c in centers {
                result.checked += 1
                let lungDistance = plan.anatomy.lungDistance(c - offset).distanceMM
                var distance = lungDistance
                // Pleural fluid lies inside the lung's outline but is not lung.
                if let fluid = plan.pleuralEffusion?.fluidDepthMM(c - offset, anatomy: plan.anatomy) {
                    distance = Swift.max(distance, fluid)
                }
                // So is a pleural plaque (the parietal pleura): outside by the centre's depth in it.
                for plaque in plan.pleuralPlaques ?? [] {
                    let depth = -plaque.signedDistance(c - offset, lungDistanceMM: lungDistance)
                    if depth > 0 { distance = Swift.max(distance, depth) }
                }
                if distance > marginMM {
                    result.outside.append(Outside(caseID: entry.caseID, centerMM: c, distanceOutsideMM: distance))
                }
            }
        }
        return result
    }
}
