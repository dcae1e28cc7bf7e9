"""Render a report page in Debian's headless chromium: a screenshot, and the console messages it logged (a page
that requests anything, runs a script or breaks its CSP logs an error there)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CONSOLE = re.compile(r"CONSOLE|Refused to|Failed to load resource|net::ERR_", re.I)


def screenshot(page: Path, png: Path, width: int = 1366, height: int = 2000, timeout: float = 90) -> list[str]:
    """Write `png` of `page`; returns chromium's console lines about the page (empty: rendered cleanly)."""
    with tempfile.TemporaryDirectory() as profile:
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
                f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()]
        env = {**os.environ, "HOME": profile}
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0 or not png.exists():
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-500:]}")
    return [line for line in done.stderr.splitlines() if CONSOLE.search(line)]
