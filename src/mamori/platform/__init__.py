"""The running platform's parts in one container, handed to the HTTP layer and the workers."""

from mamori.platform.container import Matcher, Platform

__all__ = ["Matcher", "Platform"]
