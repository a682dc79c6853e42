/// Evaluation: LUNA16-style FROC scoring of findings against ground truth.
