/// Lung-RADS v1.1 baseline-screening categories from nodule size and type (American College
/// of Radiology, Lung-RADS Version 1.1, 2019). Sizes are the mean of the long and short axis
/// in mm (rounded to one decimal before comparing, as the ACR asks).
///
/// | type         | category 2          | 3                          | 4A                     | 4B          |
/// |--------------|---------------------|----------------------------|------------------------|-------------|
/// | solid        | < 6                 | 6 to < 8                   | 8 to < 15              | >= 15       |
/// | part-solid   | total < 6           | total >= 6, solid < 6      | solid 6 to < 8         | solid >= 8  |
/// | ground-glass | < 30                | >= 30                      | -                      | -           |
///
/// Category 1 is a study without nodules, or a nodule with a benign calcification pattern
/// (complete, central, popcorn or concentric rings; `calcified`: the detector tells complete
/// and central calcification, `NoduleMeasurement`). Features that raise a category to 4X
/// (spiculation, lymph nodes) are not assessed.
public enum LungRADS {
    public static func category(type: NoduleType, diameterMM: Double, solidComponentMM: Double,
                                calcified: Bool = false) -> LungRADSCategory {
        if calcified { return .category1 }
        let d = (diameterMM * 10).rounded() / 10
        let s = (solidComponentMM * 10).rounded() / 10
        switch type {
        case .solid:
            if d < 6 { return .category2 }
            if d < 8 { return .category3 }
            if d < 15 { return .category4A }
            return .category4B
        case .partSolid:
            if d < 6 { return .category2 }
            if s < 6 { return .category3 }
            if s < 8 { return .category4A }
            return .category4B
        case .groundGlass:
            return d < 30 ? .category2 : .category3
        }
    }

    /// Study triage: urgent when any actionable finding is 4A or 4B, soon for 3, routine
    /// otherwise (categories 1 and 2 wait for the next annual screen).
    public static func priority(for category: LungRADSCategory) -> TriagePriority {
        switch category {
        case .category4A, .category4B: .urgent
        case .category3: .soon
        case .category1, .category2: .routine
        }
    }

    /// Weight of a finding's score in the study score: actionable categories count fully,
    /// so a confident 4A finding outranks an equally confident category-2 one.
    public static func studyWeight(for category: LungRADSCategory) -> Double {
        switch category {
        case .category4B, .category4A: 1.0
        case .category3: 0.9
        case .category2: 0.6
        case .category1: 0.0
        }
    }
}
