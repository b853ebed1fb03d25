"""The core every layer may use: settings, clock, database and transactions, errors, security
primitives, shared pydantic types, the worker job shape."""
