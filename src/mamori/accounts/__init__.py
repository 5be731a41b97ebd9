"""Organisations, users, roles per organisation, API tokens, login sessions, and who may see what."""
