import Foundation
import Testing
@testable import Pipeline

/// Where the repository's pipelines/ folder is, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct PipelineDefinitionTests {
    func parseError(_ yaml: String) -> PipelineConfigurationError? {
        do {
            _ = try PipelineDefinition.parse(yaml: yaml, file: "test.yaml")
            return nil
        } catch let e as PipelineConfigurationError {
            return e
        } catch {
            return nil
        }
    }

    @Test func shippedPipelinesAreValid() throws {
        let nightly = try PipelineDefinition.load(file: repositoryRoot.appendingPathComponent("pipelines/chest-ct-nightly.yaml"))
        #expect(nightly.name == "chest-ct-nightly")
        #expect(nightly.selection.perStudy == "largest")
        #expect(nightly.detect.detector.maximumFindings == 30)
        #expect(nightly.preprocess.clampHU == [-1024, 3071])
        let slices = try PipelineDefinition.load(file: repositoryRoot.appendingPathComponent("pipelines/image-slices.yaml"))
        #expect(slices.discover.formats == ["png", "jpeg"])
        #expect(slices.resume.inputHash == "content")
    }

    @Test func unknownKeyNamesFileKeyPathAndLine() throws {
        let e = try #require(parseError("""
        name: x
        detect:
          workers: 1
          kernel_wrokers: 2
        """))
        #expect(e.file == "test.yaml")
        #expect(e.keyPath == "detect.kernel_wrokers")
        #expect(e.line == 4)
        #expect(e.description.contains("test.yaml:4"))
        #expect(e.reason.contains("unknown key"))
    }

    @Test func wrongTypeAndBadValueNameTheLine() throws {
        let typeError = try #require(parseError("decode:\n  workers: two\n"))
        #expect(typeError.keyPath == "decode.workers")
        #expect(typeError.line == 2)
        #expect(typeError.reason.contains("integer"))

        let rangeError = try #require(parseError("memory:\n  fraction_of_physical: 1.5\n"))
        #expect(rangeError.keyPath == "memory.fraction_of_physical")
        #expect(rangeError.line == 2)

        let quoted = try #require(parseError("report:\n  key_image_max_side: \"512\"\n"))
        #expect(quoted.line == 2, "a quoted number is a string, not an integer")

        let enumError = try #require(parseError("\n\nresume:\n  input_hash: sha1\n"))
        #expect(enumError.line == 4)
        #expect(enumError.reason.contains("metadata"))
    }

    @Test func detectorSectionIsCheckedAgainstDetectorConfiguration() throws {
        let ok = try PipelineDefinition.parse(yaml: "detect:\n  detector:\n    minimum_score: 0.2\n    blob_scales_mm: [1, 2]\n", file: "t")
        #expect(ok.detect.detector.minimumScore == 0.2)
        #expect(ok.detect.detector.blobScalesMM == [1, 2])
        // Missing keys keep the detector's own defaults.
        #expect(ok.detect.detector.maximumFindings == 30)

        let unknown = try #require(parseError("detect:\n  detector:\n    minimum_scor: 0.2\n"))
        #expect(unknown.keyPath == "detect.detector.minimum_scor")
        #expect(unknown.line == 3)

        let badValue = try #require(parseError("detect:\n  detector:\n    minimum_score: 7\n"))
        #expect(badValue.keyPath == "detect.detector.minimum_score")
        #expect(badValue.line == 3)

        let badType = try #require(parseError("detect:\n  detector:\n\n    blob_scales_mm: fine\n"))
        #expect(badType.keyPath == "detect.detector.blob_scales_mm")
        #expect(badType.line == 4)
    }

    @Test func invalidYAMLAndRegexAreReported() throws {
        let syntax = try #require(parseError("decode:\n  workers: [1\n"))
        #expect(syntax.reason.contains("not valid YAML"))
        #expect(syntax.line >= 2)

        let regex = try #require(parseError("selection:\n  rule:\n    description:\n      regex: \"([a-z\"\n"))
        #expect(regex.keyPath == "selection.rule.description.regex")
        #expect(regex.line == 4)

        let twoPatterns = try #require(parseError("selection:\n  rule:\n    description: {glob: a, regex: b}\n"))
        #expect(twoPatterns.line == 3)
    }

    @Test func contentHashIgnoresLayoutButNotSettings() throws {
        let a = try PipelineDefinition.parse(yaml: "name: p\ndecode: {workers: 1}\ndetect:\n  detector: {minimum_score: 0.1}\n", file: "a")
        let b = try PipelineDefinition.parse(yaml: "# comment\ndetect:\n  detector:\n    minimum_score: 0.10\nname: p\n", file: "b")
        let c = try PipelineDefinition.parse(yaml: "name: p\ndetect:\n  detector: {minimum_score: 0.2}\n", file: "c")
        #expect(a.contentHash == b.contentHash)
        #expect(a.contentHash != c.contentHash)
        #expect(a.contentHash.count == 64)
    }
}

@Suite struct SeriesSelectionTests {
    func facts(_ kind: String = "dicom", modality: String? = "CT", slices: Int = 100, size: Int = 512,
               orientation: String = "axial", description: String? = "CHEST 1.0 LUNG", study: String = "s1") -> SeriesFacts {
        SeriesFacts(kind: kind, modality: modality, sliceCount: slices, rows: size, columns: size,
                    orientation: orientation, seriesDescription: description, studyKey: study)
    }

    @Test func combinatorsFollowBooleanLogic() throws {
        let yaml = """
        selection:
          rule:
            all:
              - modality: [ct]
              - min_slices: 10
              - not:
                  any:
                    - description: {glob: "*scout*"}
                    - description: {regex: "(?i)^dose"}
              - orientation: [axial, coronal]
        """
        let rule = try PipelineDefinition.parse(yaml: yaml, file: "t").selection.rule
        #expect(rule.matches(facts()))
        #expect(!rule.matches(facts(modality: "MR")))
        #expect(!rule.matches(facts(modality: nil)))
        #expect(!rule.matches(facts(slices: 9)))
        #expect(!rule.matches(facts(description: "Chest SCOUT lateral")), "glob is case-insensitive")
        #expect(!rule.matches(facts(description: "Dose Report")))
        #expect(rule.matches(facts(description: "report dose")), "regex is anchored by ^ here")
        #expect(!rule.matches(facts(orientation: "sagittal")))
        // A description condition fails when there is no description; under NOT that passes.
        #expect(rule.matches(facts(description: nil)))
    }

    @Test func largestPerStudyPrefersTheOriginalOverEqualSizedCopies() {
        // The same scan as JPEG, PNG and DICOM (same size): the DICOM series is read.
        let selection = SeriesSelection(perStudy: "largest")
        let all = [facts("jpeg"), facts("png"), facts("dicom"), facts("png", study: "s2")]
        let picked = selection.select(all, ids: ["a", "b", "c", "d"]).selected
        #expect(Set(picked) == [2, 3])
        // A bigger series still wins whatever its storage.
        let bigger = selection.select([facts("dicom", slices: 50), facts("png", slices: 100)], ids: ["a", "b"]).selected
        #expect(bigger == [1])
    }

    @Test func globSemantics() {
        #expect(Glob.matches(pattern: "chest*lung", text: "chest 1.0 lung"))
        #expect(!Glob.matches(pattern: "chest*lung", text: "chest 1.0 lung x"))
        #expect(Glob.matches(pattern: "ct?", text: "ct1"))
        #expect(!Glob.matches(pattern: "ct?", text: "ct"))
        #expect(Glob.matches(pattern: "[a-c]x[!0-9]", text: "bxq"))
        #expect(!Glob.matches(pattern: "[a-c]x[!0-9]", text: "bx7"))
        #expect(Glob.matches(pattern: "*", text: ""))
        #expect(Glob.matches(pattern: "a*b*c", text: "aXbYbZc"))
    }

    @Test func largestSeriesPerStudyFirst() throws {
        let all = [
            facts(slices: 40, study: "A"),    // 0: smaller series of study A
            facts(slices: 300, study: "A"),   // 1: largest of A
            facts(slices: 120, study: "B"),   // 2: only series of B
            facts(modality: "MR", slices: 999, study: "B"), // 3: fails the rule
        ]
        let selection = SeriesSelection(rule: .modality(["CT"]), perStudy: "largest")
        let (selected, excluded) = selection.select(all, ids: ["a0", "a1", "b2", "b3"])
        #expect(selected == [1, 2])
        #expect(excluded.map(\.0) == [0, 3])
        let every = SeriesSelection(rule: .always, perStudy: "all").select(all, ids: ["a0", "a1", "b2", "b3"])
        #expect(every.selected == [3, 1, 2, 0], "largest volumes are scheduled first")
    }
}
