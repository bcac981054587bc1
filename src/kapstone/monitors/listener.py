"""The MLLP listener: many monitors at once, an ACK for every message, never down for bad input.

asyncio serves the connections (python-hl7's ``hl7.mllp`` server and stream writer); each block
is handed to :func:`kapstone.monitors.services.receive` in a small thread pool, because the Django
ORM is synchronous: one transaction per message, in the thread. A connection's messages are taken
one at a time, in order (a monitor waits for each ACK); connections run side by side.

What a sender can do wrong and what the listener does:

- bytes before a frame's start (<VT>) are noise: dropped, the frame after them is read;
- a block that is not HL7 (no MSH): answered AR with an empty MSA-2;
- a frame cut off by a dropped connection: nothing stored, nothing answered (nobody to answer);
- a frame longer than ``MAX_BLOCK`` bytes: skipped to its end and answered AR;
- anything that fails inside: logged and answered AE, so the sender sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections
from django.utils import timezone
from hl7.mllp import start_hl7_server

from kapstone.monitors import hl7v2, services
from kapstone.monitors.hl7v2 import END_BLOCK, ERROR, REJECTED, START_BLOCK

logger = logging.getLogger("kapstone.monitors.listener")

MAX_BLOCK = 1024 * 1024


class _TooLong(Exception):
    pass


def handle_block(block: bytes, peer: str, received_at: dt.datetime) -> services.Outcome:
    """One block, in a worker thread, with the thread's database connection kept healthy.
    ``received_at`` is when the frame was read, before any wait for a free thread."""
    close_old_connections()
    try:
        return services.receive(block, received_at=received_at, peer=peer)
    except Exception:
        logger.exception("monitor message from %s could not be taken", peer)
        return services.Outcome(ERROR, _header_or_none(block), "internal error; send it again")
    finally:
        close_old_connections()


def _header_or_none(block: bytes) -> hl7v2.Header | None:
    try:
        return hl7v2.parse(block).header
    except Exception:
        return None


async def _next_block(reader: asyncio.StreamReader) -> bytes | None:
    """The next frame's content, or None at the end of the connection (a half frame is dropped)."""
    try:
        chunk = await reader.readuntil(END_BLOCK)
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        await _skip_to_end(reader)
        raise _TooLong from None
    start = chunk.rfind(START_BLOCK)
    if start > 0:
        logger.warning("dropped %d bytes of noise before a frame", start)
    # No start byte at all: the whole block is noise; it is answered (AR) all the same.
    return chunk[start + 1 : -len(END_BLOCK)] if start >= 0 else chunk[: -len(END_BLOCK)]


async def _skip_to_end(reader: asyncio.StreamReader) -> None:
    while True:
        try:
            await reader.readuntil(END_BLOCK)
            return
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(max(exc.consumed, 1))


class Listener:
    """``await serve_forever()`` in a process of its own; :meth:`start_in_thread` for tests."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 2575, workers: int = 4, reuse_port: bool = False
    ) -> None:
        self.host = host
        self.port = port
        # Several listener processes may share the port (SO_REUSEPORT; the kernel spreads the
        # connections): the ORM work is Python, one core per process.
        self.reuse_port = reuse_port
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mllp-db")
        self.server: asyncio.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.connections = 0

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.server = await start_server(
            self._connection, self.host, self.port, limit=MAX_BLOCK, reuse_port=self.reuse_port
        )
        self.port = self.server.sockets[0].getsockname()[1]
        logger.info("MLLP listener on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        await self.start()
        assert self.server is not None
        async with self.server:
            await self.server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: Any) -> None:
        peer = str(writer.get_extra_info("peername") or "")
        self.connections += 1
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    block = await _next_block(reader)
                except _TooLong:
                    now = timezone.now()
                    writer.writeblock(hl7v2.ack(None, REJECTED, now=now, reason="message too long"))
                    await writer.drain()
                    continue
                if block is None:
                    break
                received_at = timezone.now()
                outcome = await loop.run_in_executor(
                    self.executor, handle_block, block, peer, received_at
                )
                logger.info(
                    "%s %s: %s %s %s",
                    peer,
                    outcome.header.control_id if outcome.header else "-",
                    outcome.code,
                    outcome.placement or "",
                    outcome.reason,
                )
                writer.writeblock(outcome.ack(timezone.now()))
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            logger.info("connection from %s ended: %s", peer, exc)
        except Exception:
            logger.exception("connection from %s failed", peer)
        finally:
            self.connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # --- for tests and the benchmark: the listener in a background thread -------------------

    def start_in_thread(self) -> int:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="mllp-listener", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.port

    def stop(self) -> None:
        loop = self.loop
        if loop is None:
            return

        async def close() -> None:
            if self.server is not None:
                self.server.close()
                # Python 3.13 closes open connections too; on 3.12 they end with the loop.
                close_clients = getattr(self.server, "close_clients", None)
                if close_clients is not None:
                    close_clients()
            # Let the connection handlers see their sockets close and finish a message in hand.
            for _ in range(100):
                if self.connections == 0:
                    break
                await asyncio.sleep(0.05)

        if self._thread is not None:
            asyncio.run_coroutine_threadsafe(close(), loop).result(5)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(5)
        self.executor.shutdown(wait=True)


async def start_server(
    callback: Any, host: str, port: int, *, limit: int = MAX_BLOCK, reuse_port: bool = False
) -> asyncio.Server:
    """python-hl7's MLLP server (its stream writer frames the ACKs)."""
    server: asyncio.Server = await start_hl7_server(
        callback,
        host=host,
        port=port,
        limit=limit,
        reuse_address=True,
        reuse_port=reuse_port or None,
    )
    return server
