"""Headless Chromium for what a person sees: a page's visible text after its scripts ran, and screenshots.

    python -m scripts.browser text URL [CLICK_SCRIPT]
    python -m scripts.browser shot URL OUT.png [WIDTHxHEIGHT] [CLICK_SCRIPT]

Debian's `chromium` (installed by .ci/run), driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
no port, no extra package). `prepare` is JavaScript run after the page loaded, for what a person would click
first (e.g. expanding a collapsed alert in Prometheus's classic UI). `text` is document.body.innerText: only
what is rendered, not hidden elements. Each session gets a throw-away profile; as root Chromium needs --no-sandbox.
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def binary() -> str:
    found = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if found is None:
        raise RuntimeError("chromium not found: `apt-get install chromium` (CI: .ci/run installs it)")
    return found


class Chromium:
    """One headless Chromium, one page; commands over the DevTools pipe (fd 3 in, fd 4 out)."""

    def __init__(self, size: tuple[int, int] = (1400, 900), timeout: float = 60) -> None:
        self.timeout, self._next_id, self._buffer, self._events = timeout, 0, b"", []
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [binary(), "--headless", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}", f"--window-size={size[0]},{size[1]}",
                *(["--no-sandbox"] if os.geteuid() == 0 else []), "about:blank"]

        def wire_fds() -> None:  # the child's fd 3 reads our commands, fd 4 writes its answers
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(args, preexec_fn=wire_fds, pass_fds=(3, 4),  # kept open after preexec_fn wired them
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        try:
            page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
            self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
            self.call("Page.enable", session=True)
            self.call("Emulation.setDeviceMetricsOverride", session=True, width=size[0], height=size[1],
                      deviceScaleFactor=1, mobile=False)
        except Exception:
            self.close()
            raise

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params, **({"sessionId": self.session} if session else {})}
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def _read(self) -> dict:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                raise RuntimeError("chromium stopped answering")
            if not select.select([self._from_chrome], [], [], min(remaining, 1.0))[0]:
                continue
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, url: str, prepare: str | None = None, settle: float = 1.0) -> None:
        """Navigate, wait for the load event, run `prepare`, then give the page's scripts `settle` seconds."""
        self._events.clear()
        self.call("Page.navigate", session=True, url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._read())
        if prepare:
            self.evaluate(prepare)
        time.sleep(settle)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def text(self) -> str:
        """What is rendered (innerText skips hidden elements)."""
        return self.evaluate("document.body.innerText")

    def html(self) -> str:
        """The DOM after the page's scripts ran (hidden elements included)."""
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, out: Path, full_page: bool = False) -> Path:
        params = {"format": "png", "captureBeyondViewport": full_page}
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class View:
    """A page as docs/walkthrough.md shows it: where, what to click first, what must be visible."""
    name: str
    url: str
    prepare: str | None = None
    size: tuple[int, int] = (1400, 900)


# Prometheus's classic alerts page collapses every rule: open the firing ones and show their annotations, as a person would.
PROMETHEUS_ALERTS_PREPARE = ("document.querySelectorAll('tr.alert-danger.alert_header, tr.alert-warning.alert_header')"
                             ".forEach(row => row.click());"
                             "document.querySelector('div.show-annotations').click();"
                             # then scroll to the active alerts' table, past the rule's definition
                             "const t = [...document.querySelectorAll('tr.alert_details table')].find(t => t.offsetParent);"
                             "if (t) window.scrollTo(0, t.getBoundingClientRect().top + window.scrollY - 90);")


def look(view: View, out: Path | None = None) -> str:
    """The view's visible text (and a screenshot at `out`)."""
    with Chromium(view.size) as chrome:
        chrome.open(view.url, view.prepare)
        if out is not None:
            chrome.screenshot(out)
        return chrome.text()


def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "text":
        print(look(View("page", sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)))
    elif len(sys.argv) >= 4 and sys.argv[1] == "shot":
        size = tuple(int(v) for v in sys.argv[4].split("x")) if len(sys.argv) > 4 else (1400, 900)
        look(View("page", sys.argv[2], sys.argv[5] if len(sys.argv) > 5 else None, size), Path(sys.argv[3]))
        print(sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
