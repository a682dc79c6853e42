// OpenBLAS CBLAS (Debian: libopenblas-dev). Debian's cblas.h alternative points
// at OpenBLAS's own header, which also declares openblas_set_num_threads.
#include <cblas.h>

// Exported by OpenBLAS's pthread server (blas_server.c) but not declared in cblas.h: stops
// and joins the worker threads; the next threaded BLAS call starts them again.
int blas_thread_shutdown_(void);
