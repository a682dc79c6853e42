import Foundation
import SeriesInput

/// The product's discover stage: `SeriesDiscovery` (DICOM headers, PNG/JPEG folders).
public struct SeriesDiscoveryCatalog: SeriesCatalog {
    public init() {}

    public func discover(paths: [URL]) -> (series: [CatalogSeries], skipped: [SkippedInput]) {
        let result = SeriesDiscovery.discover(paths: paths)
        let series = result.series.map { d in
            CatalogSeries(
                id: d.id,
                facts: SeriesFacts(kind: d.kind.rawValue, modality: d.modality, sliceCount: d.sliceCount,
                                   rows: d.rows, columns: d.columns, orientation: d.orientation,
                                   seriesDescription: d.seriesDescription,
                                   studyKey: d.identity.studyInstanceUID ?? "series:\(d.id)"),
                identity: d.identity, sourcePaths: d.sourcePaths, load: { try d.load() })
        }
        return (series, result.skipped)
    }
}
