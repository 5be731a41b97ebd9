"""One module per input format; each exposes a :class:`~mamori.ingest.parsers.base.Parser`."""
