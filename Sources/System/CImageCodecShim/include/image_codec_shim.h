// A thin C layer between Swift and libpng / libjpeg-turbo.
//
// Why it exists: both libraries report fatal errors by calling an error handler that
// must not return (libpng's png_error, libjpeg's error_exit, whose default even calls
// exit()). The only supported way out is setjmp/longjmp, which Swift cannot call
// (returns_twice functions are unavailable in Swift). Each entry point here sets up a
// setjmp landing point, runs the library, and turns any error into a return code plus
// a message, so corrupt or truncated images become thrown Swift errors, never a
// process exit or a jump across Swift frames.
//
// Buffers returned through `out_*` pointers are malloc'd; release them with
// icshim_free(). 16-bit samples are exchanged in host byte order.
#ifndef IMAGE_CODEC_SHIM_H
#define IMAGE_CODEC_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes shared by all entry points.
enum {
    ICSHIM_OK = 0,
    ICSHIM_NOT_THIS_FORMAT = 1, ///< signature does not match
    ICSHIM_CORRUPT = 2,         ///< malformed data (bad CRC, bad Huffman code, ...)
    ICSHIM_TRUNCATED = 3,       ///< data ends before the image does
    ICSHIM_UNSUPPORTED = 4,     ///< valid but not supported (12-bit or lossless JPEG, CMYK, ...)
    ICSHIM_TOO_LARGE = 5,       ///< dimensions beyond the caller's limit
    ICSHIM_NO_MEMORY = 6,
    ICSHIM_INVALID_ARGUMENT = 7,
};

/// What a PNG held and what the decoded buffer holds.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// Bits per sample in the decoded buffer: 8 or 16.
    int bit_depth;
    /// Samples per pixel in the decoded buffer: 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA).
    /// Palette images are expanded to RGB; tRNS transparency is not expanded.
    int channels;
    /// The file's IHDR colour type and bit depth.
    int source_color_type;
    int source_bit_depth;
    int interlaced;
    /// 1 when a palette image's entries are all gray (R = G = B).
    int gray_palette;
} icshim_png_info;

/// Decodes a whole PNG held in memory. Samples come out row-major, interleaved, without
/// gamma or colour transforms (raw stored values; 1/2/4-bit gray scaled to 8-bit, as
/// libpng's expand does). `max_bytes` caps the decoded buffer size.
int icshim_png_decode(const uint8_t *data, size_t size, size_t max_bytes,
                      icshim_png_info *info, uint8_t **out_pixels, size_t *out_size,
                      char *message, size_t message_capacity);

/// Encodes 8- or 16-bit gray (channels 1) or RGB (channels 3) to a PNG in memory.
int icshim_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels,
                      int bit_depth, int compression_level,
                      uint8_t **out_data, size_t *out_size,
                      char *message, size_t message_capacity);

/// What a JPEG held.
typedef struct {
    uint32_t width;
    uint32_t height;
    /// Components in the file (1 gray, 3 colour, 4 CMYK/YCCK).
    int components;
    /// libjpeg's J_COLOR_SPACE of the file.
    int color_space;
    /// Bits per sample in the file (8; 12 is reported but unsupported by this build).
    int precision;
    int progressive;
} icshim_jpeg_info;

/// Reads only the JPEG header (size, components, precision).
int icshim_jpeg_read_header(const uint8_t *data, size_t size, icshim_jpeg_info *info,
                            char *message, size_t message_capacity);

/// Decodes a JPEG held in memory to 8-bit gray (libjpeg's own colour conversion: the Y of
/// YCbCr, or BT.601 luma of RGB). Any corrupt-data warning from libjpeg is treated as an
/// error. `max_pixels` caps width x height.
int icshim_jpeg_decode_gray(const uint8_t *data, size_t size, size_t max_pixels,
                            icshim_jpeg_info *info, uint8_t **out_pixels,
                            char *message, size_t message_capacity);

/// Encodes 8-bit gray to a baseline JPEG in memory (quality 1...100).
int icshim_jpeg_encode_gray(const uint8_t *pixels, uint32_t width, uint32_t height, int quality,
                            uint8_t **out_data, size_t *out_size,
                            char *message, size_t message_capacity);

void icshim_free(void *pointer);

/// Version strings of the linked libraries (for diagnostics).
const char *icshim_libpng_version(void);
int icshim_libjpeg_version(void);

#ifdef __cplusplus
}
#endif
#endif
