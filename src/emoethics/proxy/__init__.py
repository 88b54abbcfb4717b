"""The guardrail proxy: an OpenAI-compatible server that judges every reply (``emoethics proxy``)."""

from .app import ProxyConfig, create_proxy_app
from .guard import Policy
from .library import ProxyLibrary

__all__ = ["Policy", "ProxyConfig", "ProxyLibrary", "create_proxy_app"]
