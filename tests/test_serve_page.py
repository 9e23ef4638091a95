"""The page at GET / in a real browser: Debian's headless Chromium, driven through chromedriver's
W3C WebDriver HTTP API with httpx (already in the serve extra; selenium and playwright bring
native binaries or a browser download), against a real uvicorn on a free loopback port."""

import base64
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from neka.runs.trained import open_run
from neka.serve.__main__ import listen
from neka.serve.app import build_app

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Chromium and ChromeDriver "
                                "(Debian: apt-get install chromium chromium-driver); not installed here")
SENTENCE = "배우들 연기가 정말 좋았고 마지막 장면은 잊을 수 없어요"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference


class WebDriver:
    """The few W3C WebDriver commands this test needs (https://www.w3.org/TR/webdriver2/)."""

    def __init__(self, http: httpx.Client, session_id: str):
        self.http, self.session_id = http, session_id

    def command(self, method: str, path: str, body: dict | None = None):
        response = self.http.request(method, f"/session/{self.session_id}{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def find_all(self, css: str) -> list[str]:
        return [found[ELEMENT] for found in self.command("POST", "/elements", {"using": "css selector", "value": css})]

    def wait_for(self, css: str, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while not (found := self.find_all(css)):
            assert time.monotonic() < deadline, f"no {css} on the page after {timeout} s"
            time.sleep(0.1)
        return found

    def text(self, element: str) -> str:
        return self.command("GET", f"/element/{element}/text")

    def width(self, element: str) -> float:
        return self.command("GET", f"/element/{element}/rect")["width"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_url(request, tiny_run):
    """The tiny run's server, or (indirect parametrisation) the named run fixture's."""
    run_dir = request.getfixturevalue(request.param)[0] if hasattr(request, "param") else tiny_run[0]
    listener = listen("127.0.0.1", 0)
    app = build_app(open_run(run_dir), batch_size=64, max_texts=8, max_bytes=100_000)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        for _ in range(100):
            try:
                if http.get("/status").json()["value"]["ready"]:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        options = {"args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,700",
                            f"--user-data-dir={tmp_path / 'profile'}"]}
        created = http.post("/session", json={"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        assert created.status_code == 200, created.text
        session = WebDriver(http, created.json()["value"]["sessionId"])
        yield session
        session.command("DELETE", "")
    finally:
        http.close()
        driver.terminate()
        driver.wait(timeout=30)


def test_page_types_korean_clicks_and_draws_the_class_probabilities(browser, server_url):
    browser.command("POST", "/url", {"url": f"{server_url}/"})
    field = browser.wait_for("#field0")[0]
    browser.command("POST", f"/element/{field}/value", {"text": SENTENCE})  # typed as key events
    browser.command("POST", f"/element/{browser.find_all('#predict')[0]}/click", {})
    names = [browser.text(bar) for bar in browser.wait_for("#bars .name")]
    assert names == ["0", "1"]
    assert browser.text(browser.find_all("#echo")[0]) == SENTENCE  # Korean survived the round trip
    shown = [float(browser.text(value)) for value in browser.find_all("#bars .value")]
    served = httpx.post(f"{server_url}/predict", json={"texts": [SENTENCE]}).json()["predictions"][0]
    assert shown == pytest.approx([served["probabilities"][name] for name in names], abs=6e-4)
    for fill, track, probability in zip(browser.find_all(".fill"), browser.find_all(".track"), shown):
        assert browser.width(fill) == pytest.approx(probability * browser.width(track), abs=2)  # bars drawn to scale
    best = browser.find_all(".bar.best .name")
    assert [browser.text(name) for name in best] == [served["label"]]
    if os.environ.get("NEKA_SCREENSHOT"):  # where to keep a picture of the page, for a person to look at
        Path(os.environ["NEKA_SCREENSHOT"]).write_bytes(base64.b64decode(browser.command("GET", "/screenshot")))


@pytest.mark.parametrize("server_url", ["multilabel_run"], indirect=True)
def test_page_marks_every_label_that_applies_in_a_multilabel_run(browser, server_url):
    browser.command("POST", "/url", {"url": f"{server_url}/"})
    field = browser.wait_for("#field0")[0]
    text = "정말 못된 놈들이네 한심하다"
    browser.command("POST", f"/element/{field}/value", {"text": text})
    browser.command("POST", f"/element/{browser.find_all('#predict')[0]}/click", {})
    names = [browser.text(bar) for bar in browser.wait_for("#bars .name")]
    assert names == ["gender", "hate", "offensive", "others"]
    served = httpx.post(f"{server_url}/predict", json={"texts": [text]}).json()["predictions"][0]
    assert [browser.text(name) for name in browser.find_all(".bar.best .name")] == served["labels"]
    applies = browser.text(browser.find_all("#bars .applies")[0])
    assert applies == (f"applies: {', '.join(served['labels'])}" if served["labels"] else "no label applies")
    about = browser.text(browser.find_all("#about")[0])
    assert "4 labels, any number per text" in about
