"""The guardrail proxy: an OpenAI-compatible server that judges every reply (``emoethics proxy``)."""

from .app import create_proxy_app
from .guard import Policy
from .settings import ProxyConfig
from .workspace import ProxyWorkspace

__all__ = ["Policy", "ProxyConfig", "ProxyWorkspace", "create_proxy_app"]
