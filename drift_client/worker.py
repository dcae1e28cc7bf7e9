"""A background thread that does its work every `interval` seconds, sooner when woken: what the publisher's flush,
the service's shadow scoring and its versions poller share."""
from __future__ import annotations

import threading
from typing import Callable


class PeriodicWorker:
    """Calls `work()` on a daemon thread every `interval` seconds or as soon as `wake()` is called; `stop()` ends it
    after one last call when `final` (so that nothing queued is left behind)."""

    def __init__(self, name: str, interval: float, work: Callable[[], object], final: bool = True) -> None:
        self.interval = interval
        self.work = work
        self.final = final
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set() and not self.final:
                return
            self.work()
        if self.final:
            self.work()
