"""Alerts: every detection becomes (or repeats) an alert, the unit of triage."""
