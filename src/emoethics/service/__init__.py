"""The HTTP service: a JSON API for every operation and web pages for human review."""

from .app import ServiceConfig, create_app

__all__ = ["ServiceConfig", "create_app"]
