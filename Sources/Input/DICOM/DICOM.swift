/// DICOM: a native Part 10 reader and writer. Parses the file meta group and the data
/// set in any of the uncompressed transfer syntaxes, and decodes pixel data
/// (native, RLE Lossless, JPEG Baseline/Extended via libjpeg-turbo, JPEG Lossless).
