"""A minimal W3C WebDriver client (stdlib only) for Debian's chromedriver and headless Chromium:
just what the report test needs (open a page, find, click, run a script, screenshot)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # the W3C spec's web element identifier
# Headless Chromium behind a closed network: no sandbox (root), no GPU, and none of the background
# connections (updates, sync, QUIC probes) that would be refused and slow it down.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000"]


class WebDriverError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """One headless Chromium session driven through chromedriver; use as a context manager."""

    def __init__(self, chromium: str, chromedriver: str, profile_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        self.log = log_path.open("w")
        self.driver = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=self.log,
                                       stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.wait_for_driver()
        capabilities = {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium, "args": CHROMIUM_ARGS + [f"--user-data-dir={profile_dir}"]}}
        session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = f"/session/{session['sessionId']}"

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for_driver(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/status", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise WebDriverError(f"chromedriver did not answer on port {self.port} within {timeout} s")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One WebDriver command; its `value`, or WebDriverError with the driver's message."""
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            detail = json.loads(error.read() or b"{}").get("value", {})
            raise WebDriverError(f"{method} {path}: {detail.get('error')}: {detail.get('message')}") from None

    def open(self, url: str) -> None:
        self.call("POST", f"{self.session}/url", {"url": url})

    def script(self, source: str, *args: Any) -> Any:
        """Run JavaScript in the page (a function body: `return` gives the result)."""
        return self.call("POST", f"{self.session}/execute/sync", {"script": source, "args": list(args)})

    def wait_until(self, source: str, timeout: float = 30) -> Any:
        """Poll a script until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.script(source)
            if result:
                return result
            time.sleep(0.2)
        raise WebDriverError(f"timed out after {timeout} s waiting for: {source}")

    def find_all(self, xpath: str) -> list[str]:
        found = self.call("POST", f"{self.session}/elements", {"using": "xpath", "value": xpath})
        return [element[ELEMENT_KEY] for element in found]

    def displayed(self, element: str) -> bool:
        return self.call("GET", f"{self.session}/element/{element}/displayed")

    def click(self, element: str) -> None:
        self.call("POST", f"{self.session}/element/{element}/click")

    def enter_frame(self, element: str) -> None:
        self.call("POST", f"{self.session}/frame", {"id": {ELEMENT_KEY: element}})

    def leave_frame(self) -> None:
        self.call("POST", f"{self.session}/frame/parent")

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("GET", f"{self.session}/screenshot")))
        return path

    def close(self) -> None:
        try:
            if hasattr(self, "session"):
                self.call("DELETE", self.session)
        finally:
            self.driver.terminate()
            try:
                self.driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
            self.log.close()
