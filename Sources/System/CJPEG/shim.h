// libjpeg-turbo (Debian: libjpeg-dev). jpeglib.h needs stdio.h (FILE) first.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
#include <jerror.h>
