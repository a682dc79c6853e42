/// ImageCodecs: PNG (libpng) and JPEG (libjpeg-turbo) decoding and encoding of 8- and
/// 16-bit grayscale (and colour converted to luminance) images, from files or memory.
