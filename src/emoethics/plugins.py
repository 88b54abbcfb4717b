"""Plugins by entry point: other packages add backends, analysers, guideline sets and emotion models.

A plugin is an installed package that names a function under the ``emoethics.plugins``
entry-point group, in its ``pyproject.toml``::

    [project.entry-points."emoethics.plugins"]
    my-plugin = "my_package:register"

``register(registry)`` receives a :class:`Registry` and calls its methods; the command line, the
service, the proxy and batch jobs load every plugin once at start (:func:`load_plugins`), so
``--backend NAME``, ``--guidelines NAME`` and ``--emotion-model NAME`` reach what a plugin
registered (an analyser is chosen with ``--backend NAME`` too: it takes the analyser's role, as
``--backend sensor`` does). ``emoethics plugins`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .ethics.guidelines import register_guidelines
from .schema.emotion_models import register_emotion_model
from .session import AnalyzerFactory, BackendFactory, register_analyzer, register_backend

GROUP = "emoethics.plugins"


@dataclass
class Plugin:
    """An installed plugin and what it registered."""

    name: str
    package: str
    version: str
    backends: list[str] = field(default_factory=list)
    analyzers: list[str] = field(default_factory=list)
    guidelines: list[str] = field(default_factory=list)
    emotion_models: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version,
            "backends": self.backends,
            "analyzers": self.analyzers,
            "guidelines": self.guidelines,
            "emotion_models": self.emotion_models,
        }


class Registry:
    """What a plugin's ``register`` function may add, recorded for ``emoethics plugins``."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin

    def backend(self, name: str, factory: BackendFactory) -> None:
        """A language-model backend: ``factory(spec, cache)`` returns a :class:`~.llm.base.Backend`."""
        register_backend(name, factory)
        self.plugin.backends.append(name)

    def analyzer(self, name: str, factory: AnalyzerFactory) -> None:
        """An emotion analyser: ``factory(emotion_model, session)`` returns an
        :class:`~.emotions.analysis.Analyzer` (``analyze``, and ``analyze_batch`` where it reads batches)."""
        register_analyzer(name, factory)
        self.plugin.analyzers.append(name)

    def guidelines(self, name: str, path: str | Path) -> None:
        """A guideline set (YAML, as ``ethics/data/default.yaml``)."""
        register_guidelines(name, path)
        self.plugin.guidelines.append(name)

    def emotion_model(self, name: str, path: str | Path) -> None:
        """An emotion model (YAML, as ``schema/data/plutchik.yaml``)."""
        register_emotion_model(name, path)
        self.plugin.emotion_models.append(name)


_loaded: list[Plugin] | None = None


def load_plugins() -> list[Plugin]:
    """Load every installed plugin (once per process); a plugin that fails is a one-line ConfigError."""
    global _loaded
    if _loaded is not None:
        return _loaded
    found: list[Plugin] = []
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        dist = ep.dist
        plugin = Plugin(ep.name, dist.metadata["Name"] if dist else "?", dist.version if dist else "?")
        try:
            register = ep.load()
            register(Registry(plugin))
        except ConfigError as e:
            raise ConfigError(f"plugin '{ep.name}': {e}") from None
        except Exception as e:  # noqa: BLE001 (any failure of someone else's code is one line)
            raise ConfigError(f"plugin '{ep.name}' ({ep.value}) failed to load: {type(e).__name__}: {e}") from None
        found.append(plugin)
    _loaded = found
    return found
