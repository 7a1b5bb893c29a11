"""Logging set-up, with the bot token redacted from every line (httpx and aiohttp log URLs)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

REDACTED = "<token>"


def redact(text: str, token: str) -> str:
    """`text` with the token (and its URL-encoded form) replaced by a placeholder."""
    for secret in {token, token.replace(":", "%3A")}:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactToken(logging.Filter):
    """Replace the token (and its URL-encoded form) in a record's message and traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def _clean(self, text: str) -> str:
        return redact(text, self._token)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, cleaned, so no handler formats the raw one later.
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def user_label(user_id: int, reveal: bool) -> str:
    """How a user appears in logs: a stable hash unless HEDGEBOT_LOG_USER_IDS=1."""
    if reveal:
        return str(user_id)
    return "u" + hashlib.sha256(f"hedgebot-user:{user_id}".encode()).hexdigest()[:12]


def configure_logging(level: str, token: str | None, json_lines: bool = False) -> None:
    """One line per event on stderr; the token never printed; noisy libraries at WARNING."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    if token:
        handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO; let it through only when debugging.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(
            logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
        )
