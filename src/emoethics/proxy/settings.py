"""How the proxy runs: :class:`ProxyConfig`, from the config file's ``[proxy]`` section and the
command's flags (:func:`proxy_settings`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from ..errors import ConfigError
from .guard import Policy
from .redact import split_credentials


class ProxyConfig(BaseModel):
    """How the proxy runs (the ``[proxy]`` section of the config file, then the flags)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    upstream: str | None = Field(default=None, description="OpenAI-compatible base URL; none: the embedded model.")
    upstream_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable with the upstream's key.")
    upstream_auth: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="user:password for the upstream (taken out of an upstream URL that holds them).",
    )
    upstream_timeout: float = Field(default=120.0, gt=0)
    stream_policy: Literal["hold", "sentence"] = "hold"
    log_content: bool = Field(default=True, description="Store texts in the run log (off: verdicts only).")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    capacity: int = Field(
        default=32, ge=1, description="Chat requests in progress at once; one more gets a 503 with Retry-After."
    )
    database_url: str | None = None
    guidelines: str = "default"
    rulebook: str | None = None
    shadow: str | None = Field(
        default=None, description="A candidate rulebook judged beside the one in force, for the verdict log only."
    )
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_the_url(cls, data: Any) -> Any:
        """``http://user:password@host/v1`` becomes the URL without them and ``upstream_auth``."""
        if isinstance(data, dict) and isinstance(data.get("upstream"), str):
            clean, credentials = split_credentials(data["upstream"])
            if credentials is not None:
                data = {**data, "upstream": clean}
                data.setdefault("upstream_auth", ":".join(credentials))
        return data

    def upstream_credentials(self) -> tuple[str, str] | None:
        """(user, password) for the upstream's basic auth, if any were given."""
        if self.upstream_auth is None:
            return None
        user, _, password = self.upstream_auth.get_secret_value().partition(":")
        return user, password


POLICY_KEYS = tuple(Policy.model_fields)
SERVER_KEYS = ("host", "port", "public")


def proxy_settings(section: dict[str, Any], flags: dict[str, Any]) -> tuple[ProxyConfig, dict[str, Any]]:
    """(ProxyConfig, {host, port, public}) from the config file's ``[proxy]`` section and the flags
    (a flag that is None leaves the file's value). One flat table: the policy's keys sit beside the rest."""
    values = dict(section) | {k: v for k, v in flags.items() if v is not None}
    server = {k: values.pop(k) for k in SERVER_KEYS if k in values}
    policy = {k: values.pop(k) for k in POLICY_KEYS if k in values}
    try:
        return ProxyConfig(**values, policy=Policy(**policy)), server
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"proxy settings: '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
