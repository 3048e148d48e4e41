"""The compiled engine: equation kernels, code generation for a configuration, and the kernel cache.

This package imports only numpy and numba (and bpframe's spec classes for typing); it receives functions,
never plugin names.
"""
