"""Loopback ports: a bench must measure its own server, not whatever else listens there."""

import socket

HOST = "127.0.0.1"


def port_is_free(port: int) -> bool:
    """No one listens there (SO_REUSEADDR, as uvicorn: connections in TIME_WAIT do not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def pick_port(preferred: int = 0) -> int:
    """The preferred loopback port if free, else one the kernel picks (other people's servers
    may run on this machine); 0 asks the kernel straight away."""
    if preferred and port_is_free(preferred):
        return preferred
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
