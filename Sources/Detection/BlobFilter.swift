import Foundation
import Profiling

/// A local maximum of the multi-scale dot filter.
struct BlobCandidate {
    /// Position on the working grid (fractional grid index, full-resolution level).
    var gridPosition: SIMD3<Double>
    /// Scale-normalised dot response, HU.
    var response: Double
    /// Scale (mm) with the strongest response.
    var sigmaMM: Double
    /// lambda_c / lambda_a at that scale: 1 for a ball, near 0 for a tube (vessel).
    var roundness: Double
    /// lambda_b / lambda_a: 1 for a ball or a tube, near 0 for a plate.
    var tubularity: Double
    /// Smoothed HU at the centre at that scale (faint, ground-glass-like candidates are low).
    var smoothedHU: Double = 0
}

/// Multi-scale dot enhancement filter of Li, Sone & Doi, "Selective enhancement filters for
/// nodules, vessels, and airway walls in two- and three-dimensional CT scans", Medical
/// Physics 30(8), 2003. With the Hessian eigenvalues of the Gaussian-smoothed image sorted
/// lambda_a <= lambda_b <= lambda_c, the dot response is lambda_c^2 / |lambda_a| where all
/// three are negative (a bright blob) and 0 elsewhere; it is multiplied by sigma^2
/// (Lindeberg's scale normalisation) so responses at different scales compare, and a ball of
/// radius r answers most near sigma = r / sqrt(3). In 2D the same with two eigenvalues.
///
/// Scales at or above 2.2 grid voxels run on a 2x block-averaged grid (a one-level pyramid),
/// which keeps the large scales cheap. Voxels outside the lung mask are set to -1000 HU first,
/// so the chest wall does not hide nodules that touch the pleura.
enum BlobFilter {
    /// The candidates to measure (`selected`): every local maximum (`maxima`, also returned),
    /// chosen by `select`; the faint ones in 3D in the order of `faintPrior` when given.
    static func candidates(grid: WorkingGrid, lungs: LungMask, configuration: DetectorConfiguration,
                           faintPrior: FaintCandidatePrior? = nil, faintKeys: (([BlobCandidate]) -> [Double])? = nil,
                           workers: Int) -> (selected: [BlobCandidate], maxima: [BlobCandidate]) {
        let all = maxima(grid: grid, lungs: lungs, configuration: configuration, workers: workers)
        let threeD = lungs.size.nz > 1
        // 2D keeps the suppression its model (fp-model-2d.json) was trained with: with the
        // mutual rule the real slices of ../shared/real-ct got 2 and 1 findings more (0.40, 0.11).
        let selected = select(all, spacingMM: grid.spacingMM, configuration: configuration,
                              coarseQuota: threeD ? configuration.maximumCoarseFaintCandidates : 0,
                              faintSeparation: threeD ? .mutual : .withinKept, faintPrior: threeD ? faintPrior : nil,
                              faintKeys: threeD ? faintKeys : nil)
        return (selected, all)
    }

    /// Every local maximum of the dot response above `minimumBlobResponseHU`, at the best
    /// scale, and in 3D also the faint maxima of each coarse scale on its own.
    static func maxima(grid: WorkingGrid, lungs: LungMask, configuration: DetectorConfiguration,
                       workers: Int) -> [BlobCandidate] {
        let crop = lungs.size
        let g = grid.spacingMM
        var f = [Float](repeating: -1000, count: crop.count)
        for z in 0..<crop.nz {
            for y in 0..<crop.ny {
                let s = grid.size.index(lungs.origin.x, lungs.origin.y + y, lungs.origin.z + z)
                let d = crop.index(0, y, z)
                for x in 0..<crop.nx where lungs.inside[d + x] {
                    f[d + x] = min(150, max(-1000, grid.hu[s + x]))
                }
            }
        }
        let maskF = lungs.inside.map { $0 ? Float(1) : 0 }
        let (f1, size1) = downsample2(f, size: crop)
        let (m1f, _) = downsample2(maskF, size: crop)
        let mask1 = m1f.map { $0 >= 0.5 }

        let threshold = Float(configuration.minimumBlobResponseHU)
        // 3D only: 2D mode keeps the candidates its model (fp-model-2d.json) was trained on.
        let coarseQuota = crop.nz > 1 ? configuration.maximumCoarseFaintCandidates : 0
        var result: [BlobCandidate] = []
        for level in 0..<2 {
            let h = level == 0 ? g : 2 * g
            let scales = configuration.blobScalesMM.filter { level == 0 ? $0 / g < 2.2 : $0 / g >= 2.2 }
            guard !scales.isEmpty else { continue }
            let size = level == 0 ? crop : size1
            let input = level == 0 ? f : f1
            let mask = level == 0 ? lungs.inside : mask1
            var response = [Float](repeating: 0, count: size.count)
            var bestSigma = [Float](repeating: 0, count: size.count)
            var roundness = [Float](repeating: 0, count: size.count)
            var tubularity = [Float](repeating: 0, count: size.count)
            var smoothedAtBest = [Float](repeating: 0, count: size.count)
            for sigmaMM in scales {
                // Profiler spans per scale (`triage profile`). The Gaussian's bytes and flops are
                // counted by the Kernels filter's own nested `gaussian.separable` span, which knows
                // its truncation and passes; the dot filter reads the smoothed voxel and mask and
                // updates five per-voxel maps.
                let label = String(format: "%.1fmm%@", sigmaMM, level == 0 ? "" : ".half")
                let smoothed = Profiler.span("detect.blob.gaussian.sigma" + label, voxels: size.count) {
                    gaussianSmooth(input, size: size, sigmaVoxels: sigmaMM / h, workers: workers)
                }
                let scaleSearch = sigmaMM >= configuration.coarseFaintSigmaMM && coarseQuota > 0
                Profiler.span("detect.blob.dot.sigma" + label, voxels: size.count, bytesMoved: 45 * size.count) {
                    if !scaleSearch {
                        dotResponse(smoothed, size: size, mask: mask, spacingMM: h, sigmaMM: sigmaMM, workers: workers,
                                    response: &response, bestSigma: &bestSigma, roundness: &roundness,
                                    tubularity: &tubularity, level: &smoothedAtBest)
                        return
                    }
                    // This scale's own maps first: their faint maxima are candidates of their
                    // own (see `maximumCoarseFaintCandidates`); then they are folded into the
                    // maximum over scales.
                    var r = [Float](repeating: 0, count: size.count), b = r, ro = r, tu = r, lv = r
                    dotResponse(smoothed, size: size, mask: mask, spacingMM: h, sigmaMM: sigmaMM, workers: workers,
                                response: &r, bestSigma: &b, roundness: &ro, tubularity: &tu, level: &lv)
                    let faintHU = Float(configuration.faintCandidateHU)
                    for i in localMaxima(r, size: size, threshold: threshold) where lv[i] < faintHU {
                        result.append(candidate(at: i, size: size, level: level, origin: lungs.origin, response: r[i],
                                                sigmaMM: b[i], roundness: ro[i], tubularity: tu[i], smoothedHU: lv[i]))
                    }
                    for i in 0..<size.count where r[i] > response[i] {
                        response[i] = r[i]; bestSigma[i] = b[i]; roundness[i] = ro[i]; tubularity[i] = tu[i]
                        smoothedAtBest[i] = lv[i]
                    }
                }
            }
            let maxima = localMaxima(response, size: size, threshold: threshold)
            for i in maxima {
                result.append(candidate(at: i, size: size, level: level, origin: lungs.origin, response: response[i],
                                        sigmaMM: bestSigma[i], roundness: roundness[i], tubularity: tubularity[i],
                                        smoothedHU: smoothedAtBest[i]))
            }
        }
        return result
    }

    /// The candidate at voxel `i` of a level's map (level 1: the 2x block-averaged grid),
    /// positioned on the full-resolution working grid.
    static func candidate(at i: Int, size: GridSize, level: Int, origin: SIMD3<Int>, response: Float, sigmaMM: Float,
                          roundness: Float, tubularity: Float, smoothedHU: Float) -> BlobCandidate {
        let x = i % size.nx, y = (i / size.nx) % size.ny, z = i / size.plane
        var p = SIMD3(Double(x), Double(y), Double(z))
        if level == 1 { p = 2 * p + SIMD3(0.5, 0.5, size.nz == 1 ? 0 : 0.5) }
        p += SIMD3(Double(origin.x), Double(origin.y), Double(origin.z))
        return BlobCandidate(gridPosition: p, response: Double(response), sigmaMM: Double(sigmaMM),
                             roundness: Double(roundness), tubularity: Double(tubularity), smoothedHU: Double(smoothedHU))
    }

    /// The candidates to measure: the `maximumCandidates` strongest after non-maximum
    /// suppression, then up to `coarseQuota` faint ones at coarse scales (3D),
    /// then up to `maximumFaintCandidates` faint ones (smoothed centre below
    /// `faintCandidateHU`) ranked by `faintRank`, suppressed against all kept with
    /// `faintSeparation` (3D: `Separation.mutual`); with `faintPrior`, the last ones in the
    /// prior's order instead (the coarse ones keep `faintRank`'s); with `faintKeys` (the faint
    /// network's logits, highest first), then up to `faintNetworkCandidates` more: of the
    /// first `faintNetworkPool` in `faintRank`'s order that the candidates kept so far have not
    /// suppressed, in the keys' order (the network takes about 0.5 s for 3000 places on two
    /// cores, too much for all 7,000-22,000).
    /// A ground-glass nodule's dot response is about a third of a solid one's, so ranking by
    /// response alone fills the list with vessels before it reaches them.
    static func select(_ candidates: [BlobCandidate], spacingMM g: Double,
                       configuration: DetectorConfiguration, coarseQuota: Int,
                       faintSeparation: Separation, faintPrior: FaintCandidatePrior? = nil,
                       faintKeys: (([BlobCandidate]) -> [Double])? = nil) -> [BlobCandidate] {
        var kept = suppress(candidates, spacingMM: g, minimumSeparationMM: configuration.minimumSeparationMM,
                            maximum: configuration.maximumCandidates)
        let networkQuota = faintKeys == nil ? 0 : configuration.faintNetworkCandidates
        guard configuration.maximumFaintCandidates > 0 || coarseQuota > 0 || networkQuota > 0 else { return kept }
        let faint = candidates.filter { $0.smoothedHU < configuration.faintCandidateHU }
            .sorted { faintRank($0) > faintRank($1) }
        var coarseAdded = 0
        for c in faint where c.sigmaMM >= configuration.coarseFaintSigmaMM
            && coarseAdded < coarseQuota {
            if isSeparated(c, from: kept, spacingMM: g, minimumSeparationMM: configuration.minimumSeparationMM,
                           rule: faintSeparation) {
                kept.append(c); coarseAdded += 1
            }
        }
        func take(_ inOrder: [BlobCandidate], upTo quota: Int) {
            var added = 0
            for c in inOrder where added < quota {
                if isSeparated(c, from: kept, spacingMM: g, minimumSeparationMM: configuration.minimumSeparationMM,
                               rule: faintSeparation) {
                    kept.append(c); added += 1
                }
            }
        }
        take(faintKeys == nil ? ordered(faint, by: faintPrior) : faint, upTo: configuration.maximumFaintCandidates)
        if let faintKeys, networkQuota > 0 {
            // Maxima within a kept candidate stay suppressed whatever their key (kept only grows).
            let open = Array(faint.lazy.filter {
                isSeparated($0, from: kept, spacingMM: g, minimumSeparationMM: configuration.minimumSeparationMM,
                            rule: faintSeparation)
            }.prefix(configuration.faintNetworkPool))
            take(ordered(open, keys: faintKeys(open)), upTo: networkQuota)
        }
        return kept
    }

    /// `faint` (in `faintRank` order) reordered by the prior's log-odds, highest first; ties
    /// keep `faintRank`'s order. Unchanged without a prior.
    static func ordered(_ faint: [BlobCandidate], by prior: FaintCandidatePrior?) -> [BlobCandidate] {
        guard let prior else { return faint }
        return ordered(faint, keys: faint.map { prior.margin($0) })
    }

    /// `faint` sorted by `keys` (one per candidate), highest first; ties keep their order.
    static func ordered(_ faint: [BlobCandidate], keys: [Double]) -> [BlobCandidate] {
        precondition(keys.count == faint.count, "one key per faint candidate")
        let order = faint.indices.sorted { keys[$0] > keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        return order.map { faint[$0] }
    }

    /// Parenchyma level (HU) that `faintRank` measures a faint blob's excess from.
    static let faintRankParenchymaHU = -900.0

    /// Order of the faint candidates: how far the blob's smoothed centre stands above the
    /// parenchyma, times its scale (mm), times its roundness; in effect the HU mass of a round
    /// blob. A lung holds thousands of faint maxima (noise and vessel twigs at the smallest
    /// scale, whose scale-normalised response is as high as a ground-glass nodule's), and
    /// ranking them by response x roundness^2 left 7-8 mm ground-glass nodules at ranks 600-1400
    /// on development seeds 1300-1301; this order puts the same nodules within the first 150.
    @inline(__always)
    static func faintRank(_ c: BlobCandidate) -> Double {
        (c.smoothedHU - faintRankParenchymaHU) * c.sigmaMM * c.roundness
    }

    /// When a candidate counts as the same blob as a kept one (besides lying closer than
    /// `minimumSeparationMM`).
    enum Separation {
        /// Its centre lies within the kept one's radius (sigma x sqrt 3): the strong
        /// candidates, strongest first.
        case withinKept
        /// Each centre lies within the other's radius (the distance is below the smaller
        /// radius): the faint candidates in 3D. A faint maximum is ranked by HU mass, not by being
        /// the stronger one, and a large sphere is mostly not nodule: a 15 mm radius of diffuse
        /// density at the 8.7 mm scale (which then measured as nothing) hid a 9.1 mm
        /// ground-glass nodule 11.7 mm from its centre, and a 4.1 mm scale candidate on the
        /// vessel through an 11.2 mm ground-glass nodule hid the nodule's own faint maxima
        /// 5 mm away (development seed 1305, case-006; docs/detection.md, "Faint candidates
        /// suppressed by large spheres").
        case mutual
    }

    @inline(__always)
    static func isSeparated(_ c: BlobCandidate, from kept: [BlobCandidate], spacingMM g: Double,
                            minimumSeparationMM: Double, rule: Separation = .withinKept) -> Bool {
        let root3 = 3.0.squareRoot()
        for k in kept {
            let d = ((c.gridPosition - k.gridPosition) * g)
            let radius = rule == .mutual ? min(k.sigmaMM, c.sigmaMM) * root3 : k.sigmaMM * root3
            if (d * d).sum().squareRoot() < max(minimumSeparationMM, radius) { return false }
        }
        return true
    }

    /// Per voxel, the scale-normalised dot response at `sigmaMM`; keeps the maximum over scales.
    static func dotResponse(_ s: [Float], size: GridSize, mask: [Bool], spacingMM h: Double, sigmaMM: Double,
                            workers: Int, response: inout [Float], bestSigma: inout [Float],
                            roundness: inout [Float], tubularity: inout [Float], level: inout [Float]) {
        let nx = size.nx, ny = size.ny, nz = size.nz, plane = size.plane
        let inv = Float(1 / (h * h)), norm = Float(sigmaMM * sigmaMM), sig = Float(sigmaMM)
        let twoD = nz == 1
        s.withUnsafeBufferPointer { S in mask.withUnsafeBufferPointer { M in
        response.withUnsafeMutableBufferPointer { R in bestSigma.withUnsafeMutableBufferPointer { B in
        roundness.withUnsafeMutableBufferPointer { RO in tubularity.withUnsafeMutableBufferPointer { TU in
        level.withUnsafeMutableBufferPointer { LV in
            let zRange = twoD ? 0..<1 : 1..<max(1, nz - 1)
            parallelSlabs(zRange.count, workers: workers) { zi in
                let z = zRange.lowerBound + zi
                for y in 1..<max(1, ny - 1) {
                    for x in 1..<max(1, nx - 1) {
                        let i = z * plane + y * nx + x
                        guard M[i] else { continue }
                        let c = S[i]
                        let hxx = (S[i + 1] - 2 * c + S[i - 1]) * inv
                        let hyy = (S[i + nx] - 2 * c + S[i - nx]) * inv
                        let hxy = (S[i + nx + 1] - S[i + nx - 1] - S[i - nx + 1] + S[i - nx - 1]) * 0.25 * inv
                        // Negative definite (Sylvester) before the eigenvalues: cheap rejection.
                        guard hxx < 0, hxx * hyy - hxy * hxy > 0 else { continue }
                        var la: Float, lb: Float, lc: Float
                        if twoD {
                            let m = 0.5 * (hxx + hyy), d = (0.25 * (hxx - hyy) * (hxx - hyy) + hxy * hxy).squareRoot()
                            la = m - d; lc = m + d; lb = lc
                        } else {
                            let hzz = (S[i + plane] - 2 * c + S[i - plane]) * inv
                            let hxz = (S[i + plane + 1] - S[i + plane - 1] - S[i - plane + 1] + S[i - plane - 1]) * 0.25 * inv
                            let hyz = (S[i + plane + nx] - S[i + plane - nx] - S[i - plane + nx] + S[i - plane - nx]) * 0.25 * inv
                            let det = hxx * (hyy * hzz - hyz * hyz) - hxy * (hxy * hzz - hyz * hxz) + hxz * (hxy * hyz - hyy * hxz)
                            guard det < 0 else { continue }
                            (la, lb, lc) = symmetricEigenvalues(hxx, hyy, hzz, hxy, hxz, hyz)
                        }
                        guard lc < 0 else { continue }
                        let v = norm * lc * lc / (-la)
                        if v > R[i] {
                            R[i] = v; B[i] = sig; RO[i] = lc / la; TU[i] = lb / la; LV[i] = c
                        }
                    }
                }
            }
        } } } } } } }
    }

    /// Eigenvalues of a symmetric 3x3 matrix, sorted ascending (closed form, Smith 1961).
    @inline(__always)
    static func symmetricEigenvalues(_ a11: Float, _ a22: Float, _ a33: Float,
                                     _ a12: Float, _ a13: Float, _ a23: Float) -> (Float, Float, Float) {
        let p1 = a12 * a12 + a13 * a13 + a23 * a23
        let q = (a11 + a22 + a33) / 3
        let b11 = a11 - q, b22 = a22 - q, b33 = a33 - q
        let p2 = b11 * b11 + b22 * b22 + b33 * b33 + 2 * p1
        if p2 <= 1e-20 { return (q, q, q) }
        let p = (p2 / 6).squareRoot()
        let ip = 1 / p
        let c11 = b11 * ip, c22 = b22 * ip, c33 = b33 * ip, c12 = a12 * ip, c13 = a13 * ip, c23 = a23 * ip
        let detB = c11 * (c22 * c33 - c23 * c23) - c12 * (c12 * c33 - c23 * c13) + c13 * (c12 * c23 - c22 * c13)
        let r = max(-1, min(1, detB / 2))
        let phi = acos(r) / 3
        let e1 = q + 2 * p * cos(phi)
        let e3 = q + 2 * p * cos(phi + 2 * Float.pi / 3)
        let e2 = 3 * q - e1 - e3
        return (e3, e2, e1)
    }

    /// Indices of voxels above `threshold` that are >= all their 26 (8 in 2D) neighbours.
    static func localMaxima(_ r: [Float], size: GridSize, threshold: Float) -> [Int] {
        var out: [Int] = []
        let nx = size.nx, ny = size.ny, nz = size.nz
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx {
                    let i = size.index(x, y, z)
                    let v = r[i]
                    guard v > threshold else { continue }
                    var isMax = true
                    search: for dz in -1...1 {
                        let zz = z + dz
                        if zz < 0 || zz >= nz { continue }
                        for dy in -1...1 {
                            let yy = y + dy
                            if yy < 0 || yy >= ny { continue }
                            for dx in -1...1 {
                                let xx = x + dx
                                if xx < 0 || xx >= nx || (dx == 0 && dy == 0 && dz == 0) { continue }
                                let w = r[size.index(xx, yy, zz)]
                                // Ties: the first voxel in memory order wins.
                                if w > v || (w == v && size.index(xx, yy, zz) < i) { isMax = false; break search }
                            }
                        }
                    }
                    if isMax { out.append(i) }
                }
            }
        }
        return out
    }

    /// Non-maximum suppression in mm: strongest first; a candidate closer than
    /// max(minimumSeparationMM, radius of the stronger one) to a kept one is dropped.
    static func suppress(_ candidates: [BlobCandidate], spacingMM g: Double, minimumSeparationMM: Double,
                         maximum: Int) -> [BlobCandidate] {
        let sorted = candidates.sorted { $0.response > $1.response }
        var kept: [BlobCandidate] = []
        for c in sorted where isSeparated(c, from: kept, spacingMM: g, minimumSeparationMM: minimumSeparationMM) {
            kept.append(c)
            if kept.count >= maximum { break }
        }
        return kept
    }
}
