"""Messages between the coordinator and a client process: pickled tuples with fds alongside.

Each process has one SOCK_SEQPACKET socket to the coordinator (one message per datagram, so no
framing); file descriptors travel with a message as SCM_RIGHTS (socket.send_fds / recv_fds). Both
sides are memview's own code, so pickle is safe here. Every receive has a deadline: a peer that
does not answer in time or closes its end is reported, never waited on forever.
"""

from __future__ import annotations

import pickle
import select
import socket
import time
from typing import Any

MAX_MESSAGE = 1 << 20
MAX_FDS = 8


class ChannelClosed(Exception):
    """The other end closed its socket (it exited or was killed)."""


class ChannelTimeout(Exception):
    """No message arrived before the deadline."""


def channel_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, message: tuple[Any, ...], fds: list[int] | tuple[int, ...] = ()) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        if fds:
            socket.send_fds(sock, [data], list(fds))
        else:
            sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise ChannelClosed(str(exc)) from None


def receive(sock: socket.socket, deadline: float | None = None) -> tuple[tuple[Any, ...], list[int]]:
    """The next message and the fds that came with it (now owned by the caller)."""
    if deadline is not None:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([sock], [], [], max(remaining, 0.0))
        if not ready:
            raise ChannelTimeout()
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, MAX_FDS)
    except ConnectionResetError:
        raise ChannelClosed("connection reset") from None
    if not data:
        for fd in fds:
            socket.close(fd)
        raise ChannelClosed("end of file")
    message = pickle.loads(data)
    assert isinstance(message, tuple)
    return message, list(fds)
