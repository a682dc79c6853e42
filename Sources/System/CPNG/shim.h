// libpng (Debian: libpng-dev). Installed by scripts/setup.sh.
#include <png.h>
