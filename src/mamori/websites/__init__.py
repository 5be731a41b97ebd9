"""Website watch: availability, TLS and DNS facts, integrity (defacement) analysis, known-good snapshots."""
