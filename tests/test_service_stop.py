"""Stopping the local services (`make down`): with real processes, what counts as stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from credit_platform.dev import services

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _wait_for_state(pid: int, state: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = services._proc_stat(pid)
        if st is not None and st[0] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} never reached state {state}: {services._proc_stat(pid)}")


def test_a_group_that_ignores_sigterm_is_killed_and_reported_gone():
    proc = subprocess.Popen(["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"], start_new_session=True)
    try:
        time.sleep(0.3)  # the trap is set
        assert services._group_runs(proc.pid)
        assert services._stop_groups([proc.pid], timeout=0.5) == []
        assert not services._group_runs(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait()


def test_a_zombie_counts_as_stopped():
    # a group whose only process has exited but is not reaped yet: signal 0 still finds it, it runs nothing
    proc = subprocess.Popen(["true"], start_new_session=True)
    try:
        _wait_for_state(proc.pid, "Z")
        os.killpg(proc.pid, 0)  # no ProcessLookupError: the zombie is still in the table
        assert not services._group_runs(proc.pid)
        assert services._outlives_kill(proc.pid, timeout=0.5) is False
    finally:
        proc.wait()


def test_a_running_group_is_seen_running():
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        _wait_for_state(proc.pid, "S")
        assert services._group_runs(proc.pid)
        assert services._outlives_kill(proc.pid, timeout=5) is False
        assert services._proc_stat(proc.pid) is None  # gone, and reaped (it was our child)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
