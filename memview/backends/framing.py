"""The framing of the exec protocol: one JSON object per line, over any pair of file descriptors.

A `LineChannel` moves whole lines within deadlines; `FdChannel` is one over fds, so the same framing
serves a child's stdin/stdout pipes (ExecBackend), a connected socket or a serial line. What the
lines say (the messages, a session, their schema) is `memview.backends.protocol`; docs/protocol.md
specifies both.
"""

from __future__ import annotations

import json
import os
import selectors
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

MAX_LINE = 1 << 20  # bytes in one message, newline excluded; a longer line is garbage


class ProtocolError(Exception):
    """A line that is not a valid message here; the message's type and step when they could be read."""

    def __init__(self, problem: str, step: int | None = None, kind: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.step = step
        self.kind = kind


class Closed(Exception):
    """The other side closed the line (end of file, broken pipe, connection reset)."""

    def __init__(self, partial: bytes = b"") -> None:
        super().__init__("closed")
        self.partial = partial  # an unterminated last line, if any


class Silence(Exception):
    """Nothing (or no whole line) arrived, or a line could not be written, before the deadline."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as one line: compact UTF-8 JSON and a newline (JSON escapes any newline in strings)."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode() + b"\n"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode(line: bytes) -> dict[str, Any]:
    """A line (newline removed) as a message object with a string "type"; ProtocolError otherwise."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"not UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise ProtocolError("an empty line")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise ProtocolError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"a JSON {type(data).__name__}, not a message object")
    if not isinstance(data.get("type"), str):
        raise ProtocolError("a message needs a string \"type\"")
    return data


def excerpt(line: bytes, limit: int = 120) -> str:
    text = line[:limit].decode("utf-8", "replace")
    return repr(text) + ("..." if len(line) > limit else "")


class LineChannel(Protocol):
    """A bidirectional line transport with deadlines (time.monotonic() values)."""

    def send(self, line: bytes, deadline: float) -> None:
        """Write one whole line (newline included); Closed or Silence if that fails."""

    def receive(self, deadline: float) -> bytes:
        """The next line without its newline; Closed, Silence, or ProtocolError for an overlong line."""


READY_READ, READY_WRITE = 1, 2


class FdChannel:
    """A LineChannel over file descriptors: pipes, a socket (read_fd == write_fd) or a tty.

    Never blocks past a deadline: every fd is made non-blocking and waited on with selectors.
    `side` fds (a child's stderr) are drained whenever the channel waits, each chunk passed to its
    callback, so a peer never stalls on a full side pipe. The channel does not own the fds.
    """

    CHUNK = 65536

    def __init__(self, read_fd: int, write_fd: int, side: Mapping[int, Callable[[bytes], None]] | None = None,
                 max_line: int = MAX_LINE) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.side = dict(side or {})
        self.max_line = max_line
        self._buffer = bytearray()
        self._eof = False
        self._selector = selectors.DefaultSelector()
        for fd in {read_fd, write_fd, *self.side}:
            os.set_blocking(fd, False)
        self._interest(read_fd, selectors.EVENT_READ, True)
        for fd in self.side:
            self._selector.register(fd, selectors.EVENT_READ)

    def close(self) -> None:
        self._selector.close()

    def _wait(self, deadline: float, writing: bool) -> set[int]:
        """Wait until the main fds are ready or the deadline passes, draining side fds meanwhile.

        Returns READY_READ (data was buffered or end of file seen) and/or READY_WRITE; empty at the deadline.
        """
        if writing:
            self._interest(self.write_fd, selectors.EVENT_WRITE, True)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return set()
                ready: set[int] = set()
                for key, mask in self._selector.select(remaining):
                    fd = int(key.fd)
                    if fd in self.side:
                        self._drain_side(fd)
                        continue
                    if mask & selectors.EVENT_READ and fd == self.read_fd:
                        self._fill()
                        ready.add(READY_READ)
                    if mask & selectors.EVENT_WRITE and fd == self.write_fd:
                        ready.add(READY_WRITE)
                if ready:
                    return ready
        finally:
            if writing:
                self._interest(self.write_fd, selectors.EVENT_WRITE, False)

    def _interest(self, fd: int, event: int, wanted: bool) -> None:
        """Add or drop one event of interest on fd (read and write may share one fd, a socket)."""
        key = self._selector.get_map().get(fd)
        current = key.events if key is not None else 0
        events = current | event if wanted else current & ~event
        if key is None and events:
            self._selector.register(fd, events)
        elif key is not None and events:
            self._selector.modify(fd, events)
        elif key is not None:
            self._selector.unregister(fd)

    def _drain_side(self, fd: int) -> None:
        try:
            chunk = os.read(fd, self.CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            self.side[fd](chunk)
        else:
            self._selector.unregister(fd)
            del self.side[fd]

    def drain_side(self, deadline: float) -> None:
        """At the end of a session: read the side fds until each reaches end of file or the deadline."""
        self._interest(self.read_fd, selectors.EVENT_READ, False)
        while self.side:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for key, _ in self._selector.select(remaining):
                if int(key.fd) in self.side:
                    self._drain_side(int(key.fd))

    def _fill(self) -> None:
        if self._eof:
            return
        try:
            chunk = os.read(self.read_fd, self.CHUNK)
        except BlockingIOError:
            return
        except OSError:  # a reset connection, a hung-up tty (EIO): the line is gone
            chunk = b""
        if chunk:
            self._buffer += chunk
        else:
            self._eof = True
            self._interest(self.read_fd, selectors.EVENT_READ, False)

    def receive(self, deadline: float) -> bytes:
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                if newline > self.max_line:
                    raise ProtocolError(f"a line of more than {self.max_line} bytes")
                line = bytes(self._buffer[:newline])
                del self._buffer[:newline + 1]
                return line
            if len(self._buffer) > self.max_line:
                raise ProtocolError(f"more than {self.max_line} bytes without a newline")
            if self._eof:
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise Closed(partial)
            if not self._wait(deadline, writing=False):
                raise Silence()

    def send(self, line: bytes, deadline: float) -> None:
        view = memoryview(line)
        while view:
            try:
                written = os.write(self.write_fd, view)
            except BlockingIOError:
                written = 0
            except OSError:  # EPIPE, a reset connection, a hung-up tty
                raise Closed() from None
            view = view[written:]
            if view and not self._wait(deadline, writing=True):
                raise Silence()
