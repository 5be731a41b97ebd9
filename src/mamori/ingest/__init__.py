"""Ingest: turn bytes from sensors, files and syslog into normalised events, keep what fails."""
