"""Benchmarks, outside the test suite: see bench/README.md (run with `make bench`)."""
