"""BLAS thread pinning: results of a matrix product can depend on the thread count."""

from threadpoolctl import threadpool_limits

_pinned = None


def single_blas_thread(threads=1):
    """Pin every BLAS library of this process to `threads` threads, once.

    Call it at process start (server worker, bench, test session): a run is then
    bit-identical in any process, and BLAS threads cannot fight another busy
    process for the two cores.
    """
    global _pinned
    if _pinned != threads:
        threadpool_limits(limits=threads)
        _pinned = threads
