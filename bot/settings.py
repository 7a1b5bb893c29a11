"""The bot's configuration, from the environment (and a `.env` file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hedgecore.market.deadline import REPLY_DEADLINE_S
from hedgecore.venues import VENUES

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def default_db_path() -> Path:
    """Where the SQLite file lives unless HEDGEBOT_DB says otherwise (XDG data directory)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "hedgebot" / "hedgebot.sqlite3"


class BotSettings(BaseSettings):
    """Every setting, read from TELEGRAM_BOT_TOKEN and HEDGEBOT_* variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_base_url: str = Field(
        default=DEFAULT_BASE_URL, validation_alias="HEDGEBOT_TELEGRAM_BASE_URL"
    )
    snapshot: Path | None = Field(default=None, validation_alias="HEDGEBOT_SNAPSHOT")
    # A SQLite file, or a postgresql:// URL (kept as text) for several processes to share.
    db: Path | str = Field(default_factory=default_db_path, validation_alias="HEDGEBOT_DB")
    # NoDecode: a comma-separated list, not JSON.
    venues: Annotated[tuple[str, ...], NoDecode] = Field(
        default=tuple(VENUES), validation_alias="HEDGEBOT_VENUES"
    )
    log_level: str = Field(default="INFO", validation_alias="HEDGEBOT_LOG_LEVEL")
    transport: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp", validation_alias="HEDGEBOT_TRANSPORT"
    )
    # Behind a reverse proxy the server listens on every interface of its container.
    webhook_listen: str = Field(default="0.0.0.0", validation_alias="HEDGEBOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, validation_alias="HEDGEBOT_WEBHOOK_PORT"
    )
    http_port: int = Field(
        default=8080, ge=0, le=65535, validation_alias="HEDGEBOT_HTTP_PORT"
    )  # 0: off
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias="HEDGEBOT_LOG_FORMAT"
    )
    log_user_ids: bool = Field(default=False, validation_alias="HEDGEBOT_LOG_USER_IDS")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias="HEDGEBOT_ADMIN_IDS"
    )
    allowed_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), validation_alias="HEDGEBOT_ALLOWED_IDS"
    )
    flood_limit: int = Field(default=20, ge=1, le=1000, validation_alias="HEDGEBOT_FLOOD_LIMIT")
    # What several workers share in the moment (flood control); optional with one process.
    redis_url: str | None = Field(default=None, validation_alias="HEDGEBOT_REDIS_URL")
    # Before every key: bots sharing one Redis keep apart.
    redis_prefix: str = Field(
        default="hedgebot:", min_length=1, max_length=64, validation_alias="HEDGEBOT_REDIS_PREFIX"
    )
    # Telegram's limit on the bot's messages overall: about 30 a second, up to 1,000 for a bot
    # with paid broadcasts enabled.
    messages_per_s: int = Field(
        default=30, ge=1, le=1000, validation_alias="HEDGEBOT_MESSAGES_PER_S"
    )
    # Where Telegram reaches this bot's public server (https, the webhook's host), for the
    # calculator page: none, no calculator.
    public_url: str | None = Field(default=None, validation_alias="HEDGEBOT_PUBLIC_URL")
    reply_deadline_s: float = Field(
        default=REPLY_DEADLINE_S, ge=0.5, le=60, validation_alias="HEDGEBOT_REPLY_DEADLINE_S"
    )
    max_waiting_updates: int = Field(
        default=1000, ge=1, le=1_000_000, validation_alias="HEDGEBOT_MAX_WAITING_UPDATES"
    )

    @field_validator("db", mode="before")
    @classmethod
    def _path_unless_postgres_url(cls, value: object) -> object:
        if isinstance(value, str) and not value.startswith(POSTGRES_SCHEMES):
            return Path(value)
        return value

    @field_validator("admin_ids", "allowed_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError("expected Telegram user ids separated by commas, e.g. 12345,67890")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("venues", mode="before")
    @classmethod
    def _split_venues(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        return value

    @field_validator("venues")
    @classmethod
    def _known_venues(cls, venues: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in venues if v not in VENUES]
        if unknown or not venues:
            raise ValueError(f"use some of {', '.join(VENUES)}; got {', '.join(unknown) or 'none'}")
        return venues

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        level = level.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or not token.get_secret_value().strip():
            return None
        bot_id, _, secret = token.get_secret_value().strip().partition(":")
        if not bot_id.isdigit() or len(secret) < 20:
            raise ValueError("expected the form 123456789:AA... that BotFather gives")
        return SecretStr(token.get_secret_value().strip())

    @field_validator("public_url")
    @classmethod
    def _https_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        if not url.startswith("https://") or any(c in url for c in "?#"):
            raise ValueError(
                "expected the https address Telegram reaches, e.g. https://bot.example.com"
            )
        return url.rstrip("/")

    @field_validator("telegram_base_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://api.telegram.org/bot")
        return url


class SettingsError(Exception):
    """A setting is invalid; the message names it in one line."""


def load_settings() -> BotSettings:
    """The settings, or a `SettingsError` naming the first bad one."""
    try:
        return BotSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        # The location is the variable's own name (each field is read through its alias).
        name = str(error["loc"][0]) if error["loc"] else "a setting"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"invalid {name}: {message}") from None
