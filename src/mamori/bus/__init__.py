"""The message bus: one protocol, an in-process adapter (embedded) and a NATS JetStream adapter (scaled)."""
