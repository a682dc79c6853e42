/// Phantoms: synthetic chest CT series with known nodules (ground truth), written
/// as DICOM or PNG series, for testing and evaluating the detector.
