"""Cross-ministry response: assistance requests, the responder roster, deployments, measures, reports."""
