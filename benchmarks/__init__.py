"""Benchmarks of the fitness pipeline against the I/O floor (``make bench``); not part of the library."""
