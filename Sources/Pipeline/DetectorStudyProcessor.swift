import Foundation
import SeriesInput
import Detection

/// The product's detect stage: `NoduleDetector` with the pipeline's `detect.detector`
/// settings and the kernel worker count the runtime assigns.
public struct DetectorStudyProcessor: StudyProcessor {
    public let configuration: DetectorConfiguration

    public init(configuration: DetectorConfiguration) {
        self.configuration = configuration
    }

    public func assess(_ series: ImageSeries, kernelWorkers: Int) throws -> StudyAssessment {
        var configuration = self.configuration
        // An explicit `detect.detector.threads` wins; otherwise the runtime's policy.
        if configuration.threads == 0 { configuration.threads = kernelWorkers }
        return try NoduleDetector(configuration: configuration).assess(series)
    }
}
