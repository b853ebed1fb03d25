"""Tamper evidence beyond the timeline's own hash chains (docs/integrity.md).

keys: the Ed25519 checkpoint key, read from a file the database does not hold;
checkpoints: `bihuan audit checkpoint` signs the head of every chain; verify: `bihuan audit
verify` walks every chain in keyset batches against its hazard row and the latest checkpoint;
jobs: the worker's daily checkpoint.
"""
