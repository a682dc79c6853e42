// OpenBLAS CBLAS (Debian: libopenblas-dev). Debian's cblas.h alternative points
// at OpenBLAS's own header, which also declares openblas_set_num_threads.
#include <cblas.h>
