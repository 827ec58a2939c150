"""A real headless Chromium, driven over the DevTools protocol on a pipe.

Chromium's ``--remote-debugging-pipe`` reads protocol commands on file descriptor 3
and writes replies and events on 4, each message JSON ended by a NUL byte: no
websocket library and no downloaded browser (Debian's ``chromium`` package). The
flags keep it off the network (this machine has none) and out of the user's profile.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
)
TIMEOUT = 60.0  # generous: nothing here may hang the suite


def chromium_path() -> str | None:
    """Debian's browser binary (its /usr/bin/chromium launcher script works too)."""
    if os.access("/usr/lib/chromium/chromium", os.X_OK):
        return "/usr/lib/chromium/chromium"
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium process and one page, with every event kept."""

    def __init__(self, proc: subprocess.Popen[bytes], send_fd: int, recv_fd: int) -> None:
        self.proc = proc
        self.send_fd = send_fd
        self.recv_fd = recv_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self.recv_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.recv_fd, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the pipe (exit {self.proc.poll()})")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, *, session: bool = True, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session and self.session is not None:
            message["sessionId"] = self.session
        os.write(self.send_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + TIMEOUT
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def open_page(self) -> None:
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        pages = [t for t in targets if t["type"] == "page"]
        target = (
            pages[0]["targetId"]
            if pages
            else self.call("Target.createTarget", session=False, url="about:blank")["targetId"]
        )
        self.session = self.call(
            "Target.attachToTarget", session=False, targetId=target, flatten=True
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise BrowserError(f"script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP included)."""
        found: list[str] = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(json.dumps(params.get("args")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(str(params["entry"].get("text")))
        return found

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]


def _high(fd: int) -> int:
    """``fd`` moved to 10 or above, so that placing the pipes on 3 and 4 in the child
    never overwrites one of them."""
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


@contextmanager
def chromium(binary: str) -> Iterator[Browser]:
    """A headless Chromium with a new empty profile, ended (and its profile removed) after."""
    to_chrome_r, to_chrome_w = (_high(fd) for fd in os.pipe())
    from_chrome_r, from_chrome_w = (_high(fd) for fd in os.pipe())
    profile = tempfile.mkdtemp(prefix="csrules-chromium-")

    def child_fds() -> None:  # the protocol's fds: 3 commands in, 4 messages out
        os.dup2(to_chrome_r, 3)
        os.dup2(from_chrome_w, 4)

    proc = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=child_fds,  # the one way to place the two fds at 3 and 4
        pass_fds=(3, 4),  # kept open after child_fds placed the pipes there
        start_new_session=True,
    )
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    browser = Browser(proc, to_chrome_w, from_chrome_r)
    try:
        browser.open_page()
        yield browser
    finally:
        with suppress(BrowserError, OSError):
            browser.call("Browser.close", session=False)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(browser: Browser, path: Path, *, width: int = 1200) -> None:
    """The whole page at ``width`` CSS pixels, as a PNG."""
    import base64

    def resize(height: int) -> None:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    resize(800)  # lay the page out at the width first, then measure its height there
    resize(int(browser.evaluate("document.documentElement.scrollHeight")))
    data = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    path.write_bytes(base64.b64decode(data))
