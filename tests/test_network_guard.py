"""The guard itself must work, or SSRF tests elsewhere prove nothing."""

import socket

import pytest
from conftest import NetworkGuardError


@pytest.mark.parametrize("addr", [("10.0.0.1", 80), ("169.254.169.254", 80), ("8.8.8.8", 53), ("::ffff:10.0.0.1", 80)])
def test_non_loopback_connect_is_refused_before_sending(addr):
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s, pytest.raises(NetworkGuardError):
        s.connect(addr)


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
