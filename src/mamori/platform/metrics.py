"""Prometheus metrics of one platform instance (its own registry, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_accepted = Counter("mamori_events_accepted", "Events accepted and archived", ["org"], registry=r)
        self.events_rejected = Counter("mamori_events_rejected", "Records dead-lettered", ["org"], registry=r)
        self.detections = Counter("mamori_detections", "Detections produced", ["producer"], registry=r)
        self.alerts_created = Counter("mamori_alerts_created", "New alerts", ["severity"], registry=r)
        self.stage_latency = Histogram(
            "mamori_stage_latency_seconds",
            "Time spent per pipeline stage",
            ["stage"],
            buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 2, 10),
            registry=r,
        )
        self.queue_depth = Gauge("mamori_queue_depth", "Messages waiting per bus consumer", ["consumer"], registry=r)
        self.website_checks = Counter("mamori_website_checks", "Website checks by outcome", ["outcome"], registry=r)
        self.pending_batches = Gauge("mamori_pending_batches", "Archived batches not yet detected", registry=r)

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
