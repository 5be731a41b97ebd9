"""Configuration, read once from the environment (``MAMORI_*``) into one typed object."""

from mamori.settings.config import Settings, load_settings

__all__ = ["Settings", "load_settings"]
