"""Sigma detection: pySigma-parsed rules compiled to fast in-process matchers, routed and prefiltered.

Entry point: :class:`mamori.detect.engine.Engine`.
"""
