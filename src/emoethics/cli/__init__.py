"""The ``emoethics`` command line: a Typer app (:mod:`.app`) and one module per command family
(:mod:`.emotions`, :mod:`.ethics`, :mod:`.batch`, :mod:`.service`, :mod:`.proxy`), which register their commands
on it when imported here. :func:`main` turns every expected failure into one line and an exit
code: 2 bad input or settings, 3 model backend, 70 an internal error (never a traceback unless
``EMOETHICS_DEBUG=1``).
"""

from __future__ import annotations

import sys

from ..config import env_flag
from ..errors import EmoethicsError
from . import batch, emotions, ethics, proxy, service  # noqa: F401  (they register their commands)
from .app import app, err

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app, turning every expected failure into one line and an exit code."""
    try:
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
