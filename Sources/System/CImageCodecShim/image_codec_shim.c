// See include/image_codec_shim.h for why this file exists.
//
// Pattern used throughout: the public function owns a context struct, an inner static
// function holds the setjmp and does all library calls, storing every pointer it
// allocates in the context. After a longjmp the inner function returns an error code
// and the outer function frees what the context holds. The context is not a local of
// the function that calls setjmp, so its values stay determinate after the jump.
#include "image_codec_shim.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static void copy_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    if (text == NULL) text = "";
    size_t n = strlen(text);
    if (n >= capacity) n = capacity - 1;
    memcpy(message, text, n);
    message[n] = '\0';
}

void icshim_free(void *pointer) { free(pointer); }

const char *icshim_libpng_version(void) { return png_get_libpng_ver(NULL); }
int icshim_libjpeg_version(void) { return JPEG_LIB_VERSION; }

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

// MARK: - PNG

struct png_context {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t position;
    int truncated;
    int too_large;
    char message[256];
    uint8_t *pixels;
    png_bytepp rows;
    // Encoder output.
    uint8_t *out;
    size_t out_size;
    size_t out_capacity;
};

static void png_error_handler(png_structp png, png_const_charp text) {
    struct png_context *ctx = (struct png_context *)png_get_error_ptr(png);
    if (ctx && ctx->message[0] == '\0') copy_message(ctx->message, sizeof ctx->message, text);
    png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp text) {
    // Warnings (e.g. a bad CRC in an ancillary chunk, an odd iCCP profile) do not touch
    // the samples; libpng goes on, and so do we, silently.
    (void)png;
    (void)text;
}

static void png_read_from_memory(png_structp png, png_bytep out, size_t length) {
    struct png_context *ctx = (struct png_context *)png_get_io_ptr(png);
    if (length > ctx->size - ctx->position) {
        ctx->truncated = 1;
        png_error(png, "file ends before the image does (truncated)");
    }
    memcpy(out, ctx->data + ctx->position, length);
    ctx->position += length;
}

static int png_decode_inner(struct png_context *ctx, size_t max_bytes, icshim_png_info *info) {
    if (setjmp(png_jmpbuf(ctx->png))) return -1;

    png_set_read_fn(ctx->png, ctx, png_read_from_memory);
    // Limits: PNG allows 2^31-1 per side; we refuse absurd sizes before allocating.
    png_set_user_limits(ctx->png, 65535, 65535);
    png_read_info(ctx->png, ctx->info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(ctx->png, ctx->info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    info->width = width;
    info->height = height;
    info->source_color_type = color_type;
    info->source_bit_depth = bit_depth;
    info->interlaced = interlace != PNG_INTERLACE_NONE;
    info->gray_palette = 0;

    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(ctx->png, ctx->info, &palette, &count) && palette != NULL) {
            int gray = 1;
            for (int i = 0; i < count; i++) {
                if (palette[i].red != palette[i].green || palette[i].green != palette[i].blue) { gray = 0; break; }
            }
            info->gray_palette = gray;
        }
        png_set_palette_to_rgb(ctx->png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(ctx->png);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(ctx->png);
    (void)png_set_interlace_handling(ctx->png);
    png_read_update_info(ctx->png, ctx->info);

    info->bit_depth = png_get_bit_depth(ctx->png, ctx->info);
    info->channels = png_get_channels(ctx->png, ctx->info);
    size_t row_bytes = png_get_rowbytes(ctx->png, ctx->info);
    if (height != 0 && row_bytes > SIZE_MAX / height) { ctx->too_large = 1; png_error(ctx->png, "image too large"); }
    size_t total = row_bytes * (size_t)height;
    if (total > max_bytes) {
        ctx->too_large = 1;
        png_error(ctx->png, "decoded image would exceed the size limit");
    }
    ctx->pixels = (uint8_t *)malloc(total ? total : 1);
    ctx->rows = (png_bytepp)malloc(sizeof(png_bytep) * (height ? height : 1));
    if (ctx->pixels == NULL || ctx->rows == NULL) png_error(ctx->png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) ctx->rows[y] = ctx->pixels + (size_t)y * row_bytes;
    png_read_image(ctx->png, ctx->rows);
    // Reads the chunks after IDAT up to IEND, checking their CRCs: a file cut short
    // anywhere is reported, not silently accepted.
    png_read_end(ctx->png, NULL);
    return 0;
}

int icshim_png_decode(const uint8_t *data, size_t size, size_t max_bytes,
                      icshim_png_info *info, uint8_t **out_pixels, size_t *out_size,
                      char *message, size_t message_capacity) {
    *out_pixels = NULL;
    *out_size = 0;
    memset(info, 0, sizeof *info);
    if (data == NULL || size == 0) {
        copy_message(message, message_capacity, "empty input");
        return ICSHIM_TRUNCATED;
    }
    size_t signature_bytes = size < 8 ? size : 8;
    if (png_sig_cmp((png_const_bytep)data, 0, signature_bytes) != 0) {
        copy_message(message, message_capacity, "not a PNG file (bad signature)");
        return ICSHIM_NOT_THIS_FORMAT;
    }
    if (size < 8) {
        copy_message(message, message_capacity, "file ends inside the PNG signature (truncated)");
        return ICSHIM_TRUNCATED;
    }
    struct png_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.data = data;
    ctx.size = size;
    ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_handler, png_warning_handler);
    if (ctx.png == NULL) { copy_message(message, message_capacity, "out of memory"); return ICSHIM_NO_MEMORY; }
    ctx.info = png_create_info_struct(ctx.png);
    if (ctx.info == NULL) {
        png_destroy_read_struct(&ctx.png, NULL, NULL);
        copy_message(message, message_capacity, "out of memory");
        return ICSHIM_NO_MEMORY;
    }
    int failed = png_decode_inner(&ctx, max_bytes, info);
    png_destroy_read_struct(&ctx.png, &ctx.info, NULL);
    free(ctx.rows);
    if (failed) {
        free(ctx.pixels);
        copy_message(message, message_capacity, ctx.message[0] ? ctx.message : "malformed PNG");
        if (ctx.truncated) return ICSHIM_TRUNCATED;
        if (ctx.too_large) return ICSHIM_TOO_LARGE;
        return ICSHIM_CORRUPT;
    }
    size_t row_bytes = (size_t)info->width * (size_t)info->channels * (size_t)(info->bit_depth / 8);
    *out_pixels = ctx.pixels;
    *out_size = row_bytes * (size_t)info->height;
    return ICSHIM_OK;
}

static void png_write_to_memory(png_structp png, png_bytep bytes, size_t length) {
    struct png_context *ctx = (struct png_context *)png_get_io_ptr(png);
    if (length > ctx->out_capacity - ctx->out_size) {
        size_t needed = ctx->out_size + length;
        size_t capacity = ctx->out_capacity ? ctx->out_capacity : 65536;
        while (capacity < needed) {
            if (capacity > SIZE_MAX / 2) png_error(png, "out of memory");
            capacity *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(ctx->out, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        ctx->out = grown;
        ctx->out_capacity = capacity;
    }
    memcpy(ctx->out + ctx->out_size, bytes, length);
    ctx->out_size += length;
}

static void png_flush_nothing(png_structp png) { (void)png; }

static int png_encode_inner(struct png_context *ctx, const void *pixels, uint32_t width, uint32_t height,
                            int channels, int bit_depth, int compression_level) {
    if (setjmp(png_jmpbuf(ctx->png))) return -1;
    png_set_write_fn(ctx->png, ctx, png_write_to_memory, png_flush_nothing);
    png_set_compression_level(ctx->png, compression_level);
    png_set_IHDR(ctx->png, ctx->info, width, height, bit_depth,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(ctx->png, ctx->info);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(ctx->png);
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)(bit_depth / 8);
    ctx->rows = (png_bytepp)malloc(sizeof(png_bytep) * (height ? height : 1));
    if (ctx->rows == NULL) png_error(ctx->png, "out of memory");
    for (uint32_t y = 0; y < height; y++) ctx->rows[y] = (png_bytep)pixels + (size_t)y * row_bytes;
    png_write_image(ctx->png, ctx->rows);
    png_write_end(ctx->png, NULL);
    return 0;
}

int icshim_png_encode(const void *pixels, uint32_t width, uint32_t height, int channels,
                      int bit_depth, int compression_level,
                      uint8_t **out_data, size_t *out_size,
                      char *message, size_t message_capacity) {
    *out_data = NULL;
    *out_size = 0;
    if (pixels == NULL || width == 0 || height == 0 || width > 65535 || height > 65535
        || (channels != 1 && channels != 3) || (bit_depth != 8 && bit_depth != 16)
        || compression_level < 0 || compression_level > 9) {
        copy_message(message, message_capacity, "invalid PNG encode parameters");
        return ICSHIM_INVALID_ARGUMENT;
    }
    struct png_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_handler, png_warning_handler);
    if (ctx.png == NULL) { copy_message(message, message_capacity, "out of memory"); return ICSHIM_NO_MEMORY; }
    ctx.info = png_create_info_struct(ctx.png);
    if (ctx.info == NULL) {
        png_destroy_write_struct(&ctx.png, NULL);
        copy_message(message, message_capacity, "out of memory");
        return ICSHIM_NO_MEMORY;
    }
    int failed = png_encode_inner(&ctx, pixels, width, height, channels, bit_depth, compression_level);
    png_destroy_write_struct(&ctx.png, &ctx.info);
    free(ctx.rows);
    if (failed) {
        free(ctx.out);
        copy_message(message, message_capacity, ctx.message[0] ? ctx.message : "PNG encoding failed");
        return ICSHIM_NO_MEMORY;
    }
    *out_data = ctx.out;
    *out_size = ctx.out_size;
    return ICSHIM_OK;
}

// MARK: - JPEG

struct jpeg_error_context {
    struct jpeg_error_mgr manager; // must be first: libjpeg hands us a jpeg_error_mgr *
    jmp_buf jump;
    int code;
    char message[JMSG_LENGTH_MAX];
};

static int classify_jpeg_error(int msg_code) {
    switch (msg_code) {
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOTIMPL:
    case JERR_NO_ARITH_TABLE:
        return ICSHIM_UNSUPPORTED;
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        return ICSHIM_TRUNCATED;
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
        return ICSHIM_NO_MEMORY;
    case JERR_NO_SOI:
        return ICSHIM_NOT_THIS_FORMAT;
    default:
        return ICSHIM_CORRUPT;
    }
}

// Never returns: records the message and jumps back to the entry point. libjpeg's
// default would print to stderr and call exit().
static void jpeg_error_exit_handler(j_common_ptr cinfo) {
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    if (ctx->message[0] == '\0') {
        (*cinfo->err->format_message)(cinfo, ctx->message);
        ctx->code = classify_jpeg_error(cinfo->err->msg_code);
    }
    longjmp(ctx->jump, 1);
}

// libjpeg reports damaged entropy data and a missing EOI as *warnings* and fills the
// rest of the image with gray. For medical images a silently invented region is worse
// than a failure, so every corrupt-data warning aborts the decode. Purely informational
// warnings (an unknown JFIF revision or Adobe transform code) are let through.
static void jpeg_emit_message_handler(j_common_ptr cinfo, int level) {
    if (level >= 0) return; // trace messages
    int code = cinfo->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) return;
    struct jpeg_error_context *ctx = (struct jpeg_error_context *)cinfo->err;
    if (ctx->message[0] == '\0') {
        (*cinfo->err->format_message)(cinfo, ctx->message);
        ctx->code = code == JWRN_JPEG_EOF ? ICSHIM_TRUNCATED : ICSHIM_CORRUPT;
    }
    longjmp(ctx->jump, 1);
}

static void jpeg_output_message_silent(j_common_ptr cinfo) { (void)cinfo; }

struct jpeg_decode_context {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_context error;
    uint8_t *pixels;
    int created;
};

static void fill_jpeg_info(const struct jpeg_decompress_struct *cinfo, icshim_jpeg_info *info) {
    info->width = cinfo->image_width;
    info->height = cinfo->image_height;
    info->components = cinfo->num_components;
    info->color_space = (int)cinfo->jpeg_color_space;
    info->precision = cinfo->data_precision;
    info->progressive = cinfo->progressive_mode ? 1 : 0;
}

static void setup_jpeg_errors(struct jpeg_error_context *error) {
    jpeg_std_error(&error->manager);
    error->manager.error_exit = jpeg_error_exit_handler;
    error->manager.emit_message = jpeg_emit_message_handler;
    error->manager.output_message = jpeg_output_message_silent;
    error->code = ICSHIM_OK;
    error->message[0] = '\0';
}

static int jpeg_decode_inner(struct jpeg_decode_context *ctx, const uint8_t *data, size_t size,
                             size_t max_pixels, int header_only, icshim_jpeg_info *info) {
    if (setjmp(ctx->error.jump)) return -1;
    jpeg_create_decompress(&ctx->cinfo);
    ctx->created = 1;
    // Without a backing store, going over this budget is a clean error instead of an
    // unbounded allocation (progressive images keep all coefficients in memory).
    ctx->cinfo.mem->max_memory_to_use = 1024L * 1024L * 1024L;
    jpeg_mem_src(&ctx->cinfo, data, (unsigned long)size);
    (void)jpeg_read_header(&ctx->cinfo, TRUE);
    fill_jpeg_info(&ctx->cinfo, info);
    if (header_only) return 0;
    if (ctx->cinfo.image_width == 0 || ctx->cinfo.image_height == 0) {
        ctx->error.code = ICSHIM_CORRUPT;
        copy_message(ctx->error.message, sizeof ctx->error.message, "zero image size");
        return -1;
    }
    if ((size_t)ctx->cinfo.image_width * (size_t)ctx->cinfo.image_height > max_pixels) {
        ctx->error.code = ICSHIM_TOO_LARGE;
        copy_message(ctx->error.message, sizeof ctx->error.message, "image size exceeds the limit");
        return -1;
    }
    ctx->cinfo.out_color_space = JCS_GRAYSCALE;
    jpeg_start_decompress(&ctx->cinfo);
    if (ctx->cinfo.output_components != 1) {
        ctx->error.code = ICSHIM_UNSUPPORTED;
        copy_message(ctx->error.message, sizeof ctx->error.message, "cannot convert this JPEG to grayscale");
        return -1;
    }
    size_t width = ctx->cinfo.output_width;
    size_t height = ctx->cinfo.output_height;
    ctx->pixels = (uint8_t *)malloc(width * height);
    if (ctx->pixels == NULL) {
        ctx->error.code = ICSHIM_NO_MEMORY;
        copy_message(ctx->error.message, sizeof ctx->error.message, "out of memory");
        return -1;
    }
    while (ctx->cinfo.output_scanline < ctx->cinfo.output_height) {
        JSAMPROW row = ctx->pixels + (size_t)ctx->cinfo.output_scanline * width;
        if (jpeg_read_scanlines(&ctx->cinfo, &row, 1) != 1) {
            ctx->error.code = ICSHIM_TRUNCATED;
            copy_message(ctx->error.message, sizeof ctx->error.message, "JPEG data ended early");
            return -1;
        }
    }
    // Consumes the rest of the data up to EOI: a missing EOI raises the EOF warning.
    jpeg_finish_decompress(&ctx->cinfo);
    return 0;
}

static int jpeg_decode_common(const uint8_t *data, size_t size, size_t max_pixels, int header_only,
                              icshim_jpeg_info *info, uint8_t **out_pixels,
                              char *message, size_t message_capacity) {
    if (out_pixels) *out_pixels = NULL;
    memset(info, 0, sizeof *info);
    if (data == NULL || size == 0) {
        copy_message(message, message_capacity, "empty input");
        return ICSHIM_TRUNCATED;
    }
    if (size < 2 || data[0] != 0xFF || data[1] != 0xD8) {
        copy_message(message, message_capacity, "not a JPEG file (no SOI marker)");
        return ICSHIM_NOT_THIS_FORMAT;
    }
    struct jpeg_decode_context *ctx = (struct jpeg_decode_context *)calloc(1, sizeof *ctx);
    if (ctx == NULL) { copy_message(message, message_capacity, "out of memory"); return ICSHIM_NO_MEMORY; }
    ctx->cinfo.err = &ctx->error.manager;
    setup_jpeg_errors(&ctx->error);
    int failed = jpeg_decode_inner(ctx, data, size, max_pixels, header_only, info);
    if (ctx->created) jpeg_destroy_decompress(&ctx->cinfo);
    int code = ICSHIM_OK;
    if (failed) {
        free(ctx->pixels);
        copy_message(message, message_capacity, ctx->error.message[0] ? ctx->error.message : "malformed JPEG");
        code = ctx->error.code != ICSHIM_OK ? ctx->error.code : ICSHIM_CORRUPT;
    } else if (out_pixels) {
        *out_pixels = ctx->pixels;
    } else {
        free(ctx->pixels);
    }
    free(ctx);
    return code;
}

int icshim_jpeg_read_header(const uint8_t *data, size_t size, icshim_jpeg_info *info,
                            char *message, size_t message_capacity) {
    return jpeg_decode_common(data, size, 0, 1, info, NULL, message, message_capacity);
}

int icshim_jpeg_decode_gray(const uint8_t *data, size_t size, size_t max_pixels,
                            icshim_jpeg_info *info, uint8_t **out_pixels,
                            char *message, size_t message_capacity) {
    return jpeg_decode_common(data, size, max_pixels, 0, info, out_pixels, message, message_capacity);
}

struct jpeg_encode_context {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_context error;
    unsigned char *out;
    unsigned long out_size;
    int created;
};

static int jpeg_encode_inner(struct jpeg_encode_context *ctx, const uint8_t *pixels,
                             uint32_t width, uint32_t height, int quality) {
    if (setjmp(ctx->error.jump)) return -1;
    jpeg_create_compress(&ctx->cinfo);
    ctx->created = 1;
    jpeg_mem_dest(&ctx->cinfo, &ctx->out, &ctx->out_size);
    ctx->cinfo.image_width = width;
    ctx->cinfo.image_height = height;
    ctx->cinfo.input_components = 1;
    ctx->cinfo.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&ctx->cinfo);
    jpeg_set_quality(&ctx->cinfo, quality, TRUE);
    jpeg_start_compress(&ctx->cinfo, TRUE);
    while (ctx->cinfo.next_scanline < ctx->cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)ctx->cinfo.next_scanline * width);
        (void)jpeg_write_scanlines(&ctx->cinfo, &row, 1);
    }
    jpeg_finish_compress(&ctx->cinfo);
    return 0;
}

int icshim_jpeg_encode_gray(const uint8_t *pixels, uint32_t width, uint32_t height, int quality,
                            uint8_t **out_data, size_t *out_size,
                            char *message, size_t message_capacity) {
    *out_data = NULL;
    *out_size = 0;
    if (pixels == NULL || width == 0 || height == 0 || width > 65500 || height > 65500
        || quality < 1 || quality > 100) {
        copy_message(message, message_capacity, "invalid JPEG encode parameters");
        return ICSHIM_INVALID_ARGUMENT;
    }
    struct jpeg_encode_context *ctx = (struct jpeg_encode_context *)calloc(1, sizeof *ctx);
    if (ctx == NULL) { copy_message(message, message_capacity, "out of memory"); return ICSHIM_NO_MEMORY; }
    ctx->cinfo.err = &ctx->error.manager;
    setup_jpeg_errors(&ctx->error);
    int failed = jpeg_encode_inner(ctx, pixels, width, height, quality);
    if (ctx->created) jpeg_destroy_compress(&ctx->cinfo);
    int code = ICSHIM_OK;
    if (failed) {
        // jpeg_mem_dest keeps *outbuffer pointing at its live malloc'd buffer.
        free(ctx->out);
        copy_message(message, message_capacity, ctx->error.message[0] ? ctx->error.message : "JPEG encoding failed");
        code = ctx->error.code != ICSHIM_OK ? ctx->error.code : ICSHIM_CORRUPT;
    } else {
        *out_data = ctx->out;
        *out_size = (size_t)ctx->out_size;
    }
    free(ctx);
    return code;
}
