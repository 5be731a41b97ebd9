"""Storage adapters: the SQLAlchemy database and the file store."""
