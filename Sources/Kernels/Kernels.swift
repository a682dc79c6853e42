/// Kernels: the Dispatch-parallel compute core (Gaussian and derivative filters,
/// multi-scale Hessian and eigenvalues, LoG, im2col + sgemm filter banks).
