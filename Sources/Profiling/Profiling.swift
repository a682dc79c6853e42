/// Profiling: named spans per worker thread, byte/FLOP counters, Chrome trace export,
/// and the machine calibration (copy bandwidth, sgemm GFLOP/s) that kernel figures are
/// compared against. Sits below the kernels so they can record spans cheaply.
