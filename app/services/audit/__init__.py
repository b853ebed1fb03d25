"""The security audit log (安全审计): docs/audit.md."""
