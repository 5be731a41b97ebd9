"""Incidents: the coordinated response to one or more alerts, through the NIST phases."""
