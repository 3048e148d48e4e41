"""The compiled engine: equation kernels, code generation for a configuration, and the kernel cache.

This package imports only numpy and numba (and bpframe's spec classes for typing); it receives functions,
never plugin names. numba is imported only where code is compiled or the engine runs: the NumPy tier, the
program and the loading of cached blocks (:mod:`bpframe.kernels.lean`, llvmlite only) do without it.
"""
