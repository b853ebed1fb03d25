"""Benchmarks: scripts that print figures side by side with a reference (see each docstring).

`bench.lib` is what they share; tests/bench/test_smoke.py runs every one at a tiny size.
"""
