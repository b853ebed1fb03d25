"""Accounts: users (`users`), login, tokens, page sessions and lockout (`auth`)."""
