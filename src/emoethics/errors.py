"""Errors that emoethics reports to users.

Every error a user can cause (bad input, a bad file, an unreachable or misbehaving model server)
is an :class:`EmoethicsError` with a one-line message that says what went wrong and what to do.
The CLI prints that line and exits with the error's ``exit_code``; it never shows a traceback.
"""

from __future__ import annotations


class EmoethicsError(Exception):
    """Base class of all errors meant for the user."""

    exit_code = 1


class InputError(EmoethicsError):
    """The text or file the user gave cannot be used (empty, too long, not UTF-8, bad format)."""

    exit_code = 2


class ConfigError(EmoethicsError):
    """A configuration value, emotion-model file or option is invalid."""

    exit_code = 2


class BackendError(EmoethicsError):
    """A language-model backend failed: unreachable, timed out, or returned errors."""

    exit_code = 3


class MalformedOutputError(BackendError):
    """A model kept returning output that does not match the requested schema."""


class ModelFileError(BackendError):
    """The local model weights are missing, incomplete or fail verification."""


class TransientBackendError(BackendError):
    """A backend failure that may pass if the call is made again later: a timeout, a lost
    connection, or HTTP 408/409/429/5xx. ``retry_after`` is the server's Retry-After, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
