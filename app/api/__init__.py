"""The JSON API under /api/v1: one thin router per domain (parse, call one service, answer a
schema). The contract is docs/api.md."""
