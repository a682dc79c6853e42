import Foundation
import SeriesInput
import Detection

/// The product's detect stage: `NoduleDetector` with the pipeline's `detect.detector`
/// settings and the kernel worker count the runtime assigns. The detector (and its bundled
/// model) is built once per worker count, not per study.
public final class DetectorStudyProcessor: StudyProcessor, @unchecked Sendable {
    public let configuration: DetectorConfiguration
    private let lock = NSLock()
    private var detectors: [Int: NoduleDetector] = [:]

    public init(configuration: DetectorConfiguration) {
        self.configuration = configuration
    }

    public func assess(_ series: ImageSeries, kernelWorkers: Int) throws -> StudyAssessment {
        try detector(kernelWorkers: kernelWorkers).assess(series)
    }

    func detector(kernelWorkers: Int) -> NoduleDetector {
        lock.lock(); defer { lock.unlock() }
        if let d = detectors[kernelWorkers] { return d }
        var configuration = self.configuration
        // An explicit `detect.detector.threads` wins; otherwise the runtime's policy.
        if configuration.threads == 0 { configuration.threads = kernelWorkers }
        let d = NoduleDetector(configuration: configuration)
        detectors[kernelWorkers] = d
        return d
    }
}
