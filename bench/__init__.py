"""Benchmarks, run with `python -m bench` (or `make bench`); they print figures and assert nothing."""
