"""Accounts: registration, log-in, profiles and the school's roster."""
