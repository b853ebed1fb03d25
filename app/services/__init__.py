"""The use cases, one package per domain: its service modules, its `schemas` (the pydantic
models the API answers with) and its worker `jobs`. See docs/architecture.md for the map."""
