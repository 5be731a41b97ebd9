"""Detection content of the website watch (data files, read with importlib.resources)."""
