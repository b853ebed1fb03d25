"""Developer tooling, not product code: the scale generator behind `bihuan scale generate`.
Only the command line imports it (tests/unit/test_architecture.py)."""
