"""Test servers' ports: never one the kernel may give an outgoing connection as its source port.

A CI run lost Locust's web UI so: its port, picked from the ephemeral range minutes before Locust started, had become
the source port of some connection; the bind failed ("Address already in use") while the load ran on.
"""
from __future__ import annotations

import socket
from pathlib import Path

from scripts import servers


def test_ports_are_outside_the_kernels_ephemeral_range():
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ephemeral = range(low, high + 1)
    picked = [servers.free_port() for _ in range(300)]
    assert not [p for p in picked if p in ephemeral], (ephemeral, picked[:10])


def test_ports_are_not_handed_out_twice_by_one_process():
    picked = [servers.free_port() for _ in range(500)]
    assert len(set(picked)) == len(picked)


def test_a_held_port_is_skipped(monkeypatch):
    two = servers.free_port()
    monkeypatch.setattr(servers, "_POOL", range(two, two + 2))
    with socket.socket() as held:
        held.bind(("127.0.0.1", two))
        assert {servers.free_port() for _ in range(6)} == {two + 1}


def test_xdist_workers_get_disjoint_slices(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    slices = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(set(servers._port_pool()))
    assert slices[0] and slices[1] and not slices[0] & slices[1]
