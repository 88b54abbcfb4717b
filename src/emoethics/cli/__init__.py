"""The ``emoethics`` command line: a Typer app (:mod:`.app`) and one module per command family
(:mod:`.emotions`, :mod:`.ethics`, :mod:`.batch`, :mod:`.service`, :mod:`.proxy`), which register their commands
on it when imported here. :func:`main` turns every expected failure into one line and an exit
code: 2 bad input or settings, 3 model backend, 70 an internal error (never a traceback unless
``EMOETHICS_DEBUG=1``).
"""

from __future__ import annotations

import importlib
import sys

from ..config import env_flag
from ..errors import EmoethicsError
from .app import app, err

# The command modules register their commands on ``app`` when imported; --help lists them in this order.
for _family in ("emotions", "ethics", "calibration", "batch", "service", "proxy", "plugins"):
    importlib.import_module(f"{__name__}.{_family}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning every expected failure into one line and an exit code."""
    try:
        from ..plugins import load_plugins

        load_plugins()  # before the options are parsed: --backend and --guidelines may name a plugin's
        app()
    except EmoethicsError as e:
        err.print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - last resort: never show a traceback by default
        if env_flag("EMOETHICS_DEBUG"):
            raise
        err.print(
            f"[red]internal error:[/] {type(e).__name__}: {e} (set EMOETHICS_DEBUG=1 to see the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(70)
