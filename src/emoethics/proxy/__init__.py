"""The guardrail proxy: an OpenAI-compatible server that judges every reply (``emoethics proxy``)."""

from .app import create_proxy_app
from .guard import Policy
from .library import ProxyLibrary
from .settings import ProxyConfig

__all__ = ["Policy", "ProxyConfig", "ProxyLibrary", "create_proxy_app"]
