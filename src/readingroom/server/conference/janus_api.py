"""The serving app's client of Janus's HTTP API (the "Janus API" over plain HTTP, long-polled for events).

One :class:`JanusSession` per serving process holds every handle (one per person who
listens or speaks). Requests a plugin answers at once (``create``, ``mute``) come back in
the POST's answer; the asynchronous ones (``join``, ``configure`` with an SDP) come back as
events on the long poll, matched by their transaction. Everything else Janus says about a
handle (``webrtcup``, ``hangup``, ``media``) goes to ``on_event``. Any failure to reach
Janus is a :class:`JanusError`; ``on_lost`` is called once when the long poll finds it gone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

log = logging.getLogger("readingroom.voice")

REQUEST_TIMEOUT = 10.0  # seconds for one request
POLL_TIMEOUT = 40.0  # Janus answers a long poll with a keepalive after 30 s
KEEPALIVE = 25.0  # Janus drops a session after 60 s of silence
AUDIOBRIDGE = "janus.plugin.audiobridge"


class JanusError(RuntimeError):
    """Janus could not be reached, or refused a request (the text says which, never an SDP)."""


def _transaction() -> str:
    return secrets.token_hex(8)


class JanusSession:
    """A Janus session with its long poll running; :meth:`open` makes one."""

    def __init__(self, url: str, api_secret: str, on_event: Callable[[int, dict], None],
                 on_lost: Callable[[str], None]) -> None:
        self.url, self.api_secret = url.rstrip("/"), api_secret
        self.on_event, self.on_lost = on_event, on_lost
        self.id = 0
        self._waiting: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []  # the long poll and the keepalive, held (the loop holds tasks weakly)
        self.closed = False
        self._client = AsyncHTTPClient()

    @classmethod
    async def open(cls, url: str, api_secret: str, on_event, on_lost) -> JanusSession:
        session = cls(url, api_secret, on_event, on_lost)
        answer = await session._post(session.url, {"janus": "create"})
        session.id = answer["data"]["id"]
        session._tasks = [asyncio.ensure_future(session._poll()), asyncio.ensure_future(session._keepalive())]
        return session

    async def attach(self) -> int:
        answer = await self._post(f"{self.url}/{self.id}", {"janus": "attach", "plugin": AUDIOBRIDGE})
        return answer["data"]["id"]

    async def detach(self, handle: int) -> None:
        await self._post(f"{self.url}/{self.id}/{handle}", {"janus": "detach"})

    async def request(self, handle: int, body: dict) -> dict:
        """A request the plugin answers at once; its ``plugindata.data``."""
        answer = await self._post(f"{self.url}/{self.id}/{handle}", {"janus": "message", "body": body})
        return _plugin_data(answer, body["request"])

    async def message(self, handle: int, body: dict, jsep: dict | None = None) -> tuple[dict, dict | None]:
        """An asynchronous request: waits for its event; ``(plugin data, jsep or None)``."""
        transaction = _transaction()
        waiting = self._waiting[transaction] = asyncio.get_running_loop().create_future()
        try:
            payload = {"janus": "message", "body": body, **({"jsep": jsep} if jsep else {})}
            answer = await self._post(f"{self.url}/{self.id}/{handle}", payload, transaction)
            if answer.get("janus") == "success":  # answered at once after all
                return _plugin_data(answer, body["request"]), answer.get("jsep")
            event = await asyncio.wait_for(waiting, REQUEST_TIMEOUT)
        except TimeoutError:
            raise JanusError(f"Janus did not answer {body['request']!r} in time") from None
        finally:
            self._waiting.pop(transaction, None)
        return _plugin_data(event, body["request"]), event.get("jsep")

    async def _post(self, url: str, payload: dict, transaction: str | None = None) -> dict:
        body = {**payload, "transaction": transaction or _transaction(), "apisecret": self.api_secret}
        try:
            response = await self._client.fetch(HTTPRequest(url, "POST", body=json.dumps(body),
                                                            request_timeout=REQUEST_TIMEOUT))
        except (HTTPClientError, OSError) as error:
            raise JanusError(f"Janus is unreachable at {self.url}: {error}") from None
        answer = json.loads(response.body)
        if answer.get("janus") == "error":
            raise JanusError(f"Janus refused {payload['janus']!r}: {answer['error'].get('reason')}")
        return answer

    async def _poll(self) -> None:
        url = f"{self.url}/{self.id}?maxev=10&apisecret={self.api_secret}"
        while not self.closed:
            try:
                response = await self._client.fetch(HTTPRequest(url, request_timeout=POLL_TIMEOUT))
                events = json.loads(response.body)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001  (any failure here means voice is gone)
                if not self.closed:
                    self.closed = True
                    self.on_lost(f"Janus is unreachable at {self.url}: {error}")
                return
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: dict) -> None:
        if event.get("janus") == "keepalive":
            return
        waiting = self._waiting.get(event.get("transaction", ""))
        if waiting is not None and event.get("janus") == "event" and not waiting.done():
            waiting.set_result(event)
            return
        if event.get("janus") == "error" and event.get("session_id") == self.id and event.get("error", {}).get("code") == 458:
            self.closed = True  # the session expired: Janus forgot us
            self.on_lost("Janus dropped the session")
            return
        handle = event.get("sender")
        if handle:
            self.on_event(handle, event)

    async def _keepalive(self) -> None:
        while not self.closed:
            await asyncio.sleep(KEEPALIVE)
            try:
                await self._post(f"{self.url}/{self.id}", {"janus": "keepalive"})
            except JanusError:
                pass  # the long poll reports the loss


def _plugin_data(answer: dict, request: str) -> dict:
    data = answer.get("plugindata", {}).get("data", {})
    if "error_code" in data:
        raise JanusError(f"AudioBridge refused {request!r}: {data.get('error')} ({data['error_code']})")
    return data
