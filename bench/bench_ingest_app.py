"""The embedded app without a detection engine, to measure the ingest path alone (used by bench_ingest.py)."""

from fastapi import FastAPI

from mamori.asgi import build_platform, create_app
from mamori.settings import load_settings


def app_without_detection() -> FastAPI:
    return create_app(build_platform(load_settings(), matcher=None))
