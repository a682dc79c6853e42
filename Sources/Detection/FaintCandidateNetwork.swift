import Dispatch
import Foundation
import Volumes

/// A small 3D network that puts the faint maxima of the dot filter in order before the
/// detector's faint candidates are taken from them (`BlobFilter.select`): the first stage of a
/// cascade, so the measurement, the trees and the patch network see the few hundred faint
/// places most like a nodule instead of those with the most HU mass (`BlobFilter.faintRank`).
///
/// A lung holds 7,000-22,000 faint maxima; on the dot filter's own numbers a 3-6 mm
/// ground-glass nodule looks like the vessel twigs and noise around it (docs/detection.md,
/// "The learned faint order"), but not in the image: the network looks at a 16 mm cube of HU
/// around each maximum. Same layers and file format as `PatchNetwork` (its `combination` is
/// not used: the logit only orders), smaller and run on far more places:
///
///     HU cube, 16^3 at 1 mm (CandidatePatch), window -> [0, 1]
///       -> [conv 3^3 + ReLU -> max pool 2] x 2 -> conv 3^3 + ReLU -> global max
///       -> dense + ReLU -> dense -> logit
///
/// In the spirit of the candidate-screening first stages of cascaded CNN detectors (Dou et al.,
/// "Multilevel contextual 3-D CNNs for false positive reduction in pulmonary nodule
/// detection", IEEE TBME 64(7), 2017). Trained by `scripts/train_faint_network.py` on the faint
/// maxima of training-seed phantoms (`triage train-prior --maxima-csv`); the weights are
/// `Sources/Detection/Model/faint-network-3d.json`, used when present (`learned_faint_order`).
public struct FaintCandidateNetwork: Sendable {
    /// Name of the bundled file in Sources/Detection/Model/.
    public static let bundledFileName = "faint-network-3d.json"

    public let network: PatchNetwork

    public init(network: PatchNetwork) {
        self.network = network
    }

    /// Loads the bundled network; nil when there is none.
    public static func bundled() throws -> FaintCandidateNetwork? {
        try PatchNetwork.bundled(fileName: bundledFileName).map(FaintCandidateNetwork.init)
    }

    /// The logit of each place (LPS, mm) of `volume`, computed on `workers` threads in chunks
    /// of `chunk` places (each place is one small serial network run).
    public func logits(volume: Volume, centersMM: [SIMD3<Double>], workers: Int, chunk: Int = 64) -> [Double] {
        var out = [Double](repeating: 0, count: centersMM.count)
        guard !centersMM.isEmpty else { return out }
        let chunk = max(1, chunk)
        let chunks = (centersMM.count + chunk - 1) / chunk
        out.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            let run = { (k: Int) in
                for i in (k * chunk)..<min(centersMM.count, (k + 1) * chunk) {
                    results[i] = network.logit(volume: volume, centerMM: centersMM[i])
                }
            }
            if workers <= 1 {
                (0..<chunks).forEach(run)
            } else {
                DispatchQueue.concurrentPerform(iterations: chunks, execute: run)
            }
        }
        return out
    }
}
