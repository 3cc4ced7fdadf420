"""`vigil serve` binds its port before anything starts: a taken port fails fast, even for a server whose workers
each get a socket of their own on it (SO_REUSEPORT)."""

from __future__ import annotations

import socket

import pytest

from api.cli.main import ListenError, bind_listener
from api.serving import _same_port


@pytest.mark.parametrize("shared_port", [False, True])
def test_a_port_another_server_holds_is_refused(shared_port: bool) -> None:
    holder = bind_listener("127.0.0.1", 0, shared_port=True)  # another Vigil with several workers
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind_listener("127.0.0.1", port, shared_port=shared_port)
    finally:
        holder.close()


def test_each_worker_gets_its_own_listening_socket_on_the_port() -> None:
    first = bind_listener("127.0.0.1", 0, shared_port=True)
    second = _same_port(first)
    try:
        first.listen()
        second.listen()
        assert first.getsockname() == second.getsockname()
        assert first.fileno() != second.fileno()
        assert second.type == socket.SOCK_STREAM
        assert second.proto == first.proto
    finally:
        first.close()
        second.close()
