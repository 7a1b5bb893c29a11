"""PTB's HTTP transport on aiohttp: one shared ClientSession, PTB's timeouts, multipart uploads.

Measured here on the same loopback set-up, it costs a fraction of the CPU per request of PTB's
default httpx transport (bench/bot_throughput.py); `HEDGEBOT_TRANSPORT=httpx` selects httpx.
"""

from __future__ import annotations

import json

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` over one aiohttp `ClientSession`, opened in `initialize`."""

    def __init__(
        self,
        connection_pool_size: int = 32,
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 1.0,
        media_write_timeout: float = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    @staticmethod
    def _body(request_data: RequestData | None) -> aiohttp.FormData | aiohttp.BytesPayload | None:
        """A JSON body, or a multipart form when the request uploads files (photos).

        JSON rather than a urlencoded form: percent-encoding a long HTML reply costs more CPU than
        the rest of the request.
        """
        if request_data is None:
            return None
        if not request_data.contains_files:
            body = json.dumps(request_data.parameters, separators=(",", ":")).encode()
            return aiohttp.BytesPayload(body, content_type="application/json")
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, upload in request_data.multipart_data.items():
            filename, content, *mime = upload
            form.add_field(name, content, filename=filename, content_type=mime[0] if mime else None)
        return form

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        uploads = request_data is not None and request_data.contains_files

        def chosen(value: ODVInput[float], default: float) -> float | None:
            return default if isinstance(value, DefaultValue) else value

        read = chosen(read_timeout, self._read_timeout)
        write = chosen(write_timeout, self._media_write_timeout if uploads else self._write_timeout)
        connect = chosen(connect_timeout, self._connect_timeout)
        pool = chosen(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            sock_connect=connect,
            sock_read=read,
            # aiohttp's `connect` covers waiting for a pooled connection and connecting.
            connect=None if connect is None or pool is None else connect + pool,
            # aiohttp has no write timeout of its own: bound the whole exchange instead.
            total=None if write is None or read is None else write + read,
        )
        try:
            async with self._session.request(
                method, url, data=self._body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError:
            failure: NetworkError = TimedOut()
        except aiohttp.ClientError as exc:
            failure = NetworkError(f"aiohttp.{type(exc).__name__}")
        # Raised outside the handler, so it chains nothing: aiohttp's errors carry the URL, and
        # the URL holds the token.
        raise failure
