"""The database's side of the crypto profile (docs/integrity.md, "国密 profile").

state: which digest each chain link was written with, which key personal data is encrypted
with, and the refusal to run with settings that disagree; rekey: `bihuan crypto rekey`.
"""
