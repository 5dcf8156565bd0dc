"""The chat web demo (apps/chat/app.py): bad input, Space files, and a real browser session.

The browser test starts the app on a free 127.0.0.1 port, drives it with Playwright in
headless Chromium (the ``browser`` fixture of conftest.py), sends a message, waits for the
streamed reply, classifies a review in the sentiment tab, and checks from the browser's
network log and from the Python side that nothing outside 127.0.0.1 was contacted.
Screenshots go to outputs/08_web_demo/.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import socket
import sys
import time
from urllib.parse import urlparse

import pytest
import yaml

from tutorial_utils.env import output_dir, project_root

ROOT = project_root()
APP_DIR = ROOT / "apps" / "chat"
MAX_INPUT_TOKENS = 256  # small, so that the too-long-message path is quick to reach
MESSAGE = "Hello! What can you do?"
REPLY_TOKENS = 24
REVIEW = "I love using transformers, it's so easy and powerful!"  # the write-up's sentence


@pytest.fixture(scope="module")
def app_module():
    spec = importlib.util.spec_from_file_location("course_chat_app", APP_DIR / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chat_app(app_module):
    return app_module.ChatApp.load(max_input_tokens=MAX_INPUT_TOKENS)


def _letters(text: str) -> str:
    """Only letters and digits: compares model text with what the page renders as markdown."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


# --- the app's functions ------------------------------------------------------------------


def test_empty_message_gets_a_notice_not_a_reply(chat_app):
    updates = list(chat_app.respond("   ", [], 0.0, 8))
    assert len(updates) == 1
    history, box, notice = updates[0]
    assert history == [] and box == ""
    assert "empty" in notice


@pytest.mark.parametrize(
    "temperature, max_new_tokens, wanted",
    [
        (2.5, 8, "Temperature"),
        (-1, 8, "Temperature"),
        (0.5, 0, "Max new tokens"),
        (0.5, 600, "Max new tokens"),
        (0.5, 2.5, "whole number"),
        ("hot", 8, "number"),
    ],
)
def test_settings_out_of_range_raise_a_clear_error(
    app_module, chat_app, temperature, max_new_tokens, wanted
):
    import gradio as gr

    with pytest.raises(gr.Error, match=wanted):
        list(chat_app.respond("Hi", [], temperature, max_new_tokens))


def test_too_long_message_is_cut_with_a_notice(chat_app):
    long_message = "I can't fall asleep at night. What should I do? " * 60
    ids, notice = chat_app.prepare(long_message, [])
    assert ids.shape[1] <= MAX_INPUT_TOKENS
    assert f"{MAX_INPUT_TOKENS} tokens" in notice and "first" in notice
    updates = list(chat_app.respond(long_message, [], 0.0, 4))
    history, _, shown = updates[-1]
    assert shown == notice and history[-1]["role"] == "assistant" and history[-1]["content"]


def test_long_history_drops_the_oldest_turns(chat_app):
    turn = "Tell me about movies. " * 20
    history = []
    for _ in range(4):
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": turn}]
    ids, notice = chat_app.prepare("And now?", history)
    assert ids.shape[1] <= MAX_INPUT_TOKENS
    assert "Earlier messages were left out" in notice
    short_ids, short_notice = chat_app.prepare("And now?", history[-2:])
    assert short_notice == "" and short_ids.shape[1] < MAX_INPUT_TOKENS


def test_classify_returns_every_label_and_rejects_empty_text(chat_app):
    import gradio as gr

    scores = chat_app.classify(REVIEW)
    assert len(scores) >= 2 and abs(sum(scores.values()) - 1) < 1e-4
    with pytest.raises(gr.Error, match="empty"):
        chat_app.classify("  ")


def test_text_of_reads_gradio_message_content(app_module):
    assert app_module.text_of("plain") == "plain"
    assert (
        app_module.text_of([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    )
    assert app_module.text_of(None) == ""


# --- the Space files ----------------------------------------------------------------------


def test_space_readme_and_requirements():
    import gradio

    text = (APP_DIR / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, _, body = text[4:].partition("\n---\n")
    config = yaml.safe_load(front)
    assert config["sdk"] == "gradio"
    assert (APP_DIR / config["app_file"]).is_file()
    assert isinstance(config["sdk_version"], str)
    assert config["sdk_version"].split(".")[0] == gradio.__version__.split(".")[0]
    assert isinstance(config["python_version"], str)
    assert config["colorFrom"] in {
        "red",
        "yellow",
        "green",
        "blue",
        "indigo",
        "purple",
        "pink",
        "gray",
    }
    assert len(config["short_description"]) <= 60
    assert "python apps/chat/app.py" in body
    requirements = (APP_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    names = {re.split(r"[<>=]", r)[0] for r in requirements if r and not r.startswith("#")}
    assert {"transformers", "torch"} <= names
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in requirements:  # the same versions as the course's own environment
        if requirement.startswith(("transformers", "torch")):
            assert requirement in project, f"{requirement} differs from pyproject.toml"


# --- a real browser -----------------------------------------------------------------------

_RECORDING: list[list[str]] = []  # active recorders of outgoing connections (audit hook)
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", None, ""}


def _audit(event: str, args: tuple) -> None:
    if not _RECORDING:
        return
    host = None
    if event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
    else:
        return
    if host not in _LOCAL_HOSTS:
        for recorder in _RECORDING:
            recorder.append(f"{event} {host}")


@contextlib.contextmanager
def _outgoing_connections():
    """Record every connection (and name lookup) this process makes to a non-local host."""
    if not getattr(sys, "_course_chat_audit", False):  # an audit hook stays for the process:
        sys.addaudithook(_audit)  # add it once; it does nothing unless recording
        sys._course_chat_audit = True
    recorded: list[str] = []
    _RECORDING.append(recorded)
    try:
        yield recorded
    finally:
        _RECORDING.remove(recorded)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SNAPSHOTS_JS = """
() => {
  window.__botTexts = [];
  const log = document.querySelector('#chatbot');
  const record = () => {
    const bots = log.querySelectorAll('[data-testid="bot"]');
    const text = bots.length ? bots[bots.length - 1].innerText : '';
    const seen = window.__botTexts;
    if (text && (seen.length === 0 || seen[seen.length - 1] !== text)) seen.push(text);
  };
  new MutationObserver(record).observe(log, {subtree: true, childList: true, characterData: true});
}
"""


def test_browser_chat_and_sentiment(app_module, chat_app, browser):
    import gradio as gr

    started = time.perf_counter()
    out = output_dir("08_web_demo")
    # The reply the page must show: greedy decoding, computed here without the page.
    expected = list(chat_app.respond(MESSAGE, [], 0.0, REPLY_TOKENS))[-1][0][-1]["content"]
    expected_label = max(chat_app.classify(REVIEW).items(), key=lambda item: item[1])[0]

    demo = app_module.build_demo(chat_app)
    port = _free_port()
    requests: list[str] = []
    with _outgoing_connections() as outgoing:
        url = app_module.launch(demo, port=port, prevent_thread_lock=True)
        context = browser.new_context(viewport={"width": 1100, "height": 950})
        try:
            assert urlparse(url).hostname == "127.0.0.1" and urlparse(url).port == port
            assert demo.share is False and demo.analytics_enabled is False
            fonts = app_module.THEME._font + app_module.THEME._font_mono
            assert not any(isinstance(font, gr.themes.GoogleFont) for font in fonts)

            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("websocket", lambda socket_: requests.append(socket_.url))
            page.goto(url, wait_until="networkidle")
            info = page.locator("#model-info")
            info.wait_for()
            assert (
                "offline" if "offline" in chat_app.description else "online"
            ) in info.inner_text()

            # An empty message gets a notice in the page, not an error.
            page.locator("#message textarea").press("Enter")
            page.locator("#notice").get_by_text("empty").wait_for(timeout=15_000)

            # Settings in the page: greedy decoding, a short reply.
            page.get_by_text("Generation settings").click()
            page.get_by_label("number input for Temperature (0 = greedy)").fill("0")
            page.get_by_label("number input for Temperature (0 = greedy)").press("Enter")
            page.get_by_label("number input for Max new tokens").fill(str(REPLY_TOKENS))
            page.get_by_label("number input for Max new tokens").press("Enter")

            page.evaluate(SNAPSHOTS_JS)
            page.locator("#message textarea").fill(MESSAGE)
            page.locator("#message textarea").press("Enter")
            page.wait_for_function(
                "want => (window.__botTexts.at(-1) || '').toLowerCase().replace(/[^0-9a-z]/g, '') === want",
                arg=_letters(expected),
                timeout=60_000,
            )
            snapshots = page.evaluate("window.__botTexts")
            assert len(snapshots) >= 2, f"the reply did not stream: {snapshots}"
            assert all(_letters(expected).startswith(_letters(s)) for s in snapshots)
            assert (
                page.locator('#chatbot [data-testid="user"]').last.inner_text().strip() == MESSAGE
            )
            page.screenshot(path=str(out / "browser_chat.png"), full_page=True)

            # The sentiment tab.
            page.get_by_role("tab", name="Sentiment").click()
            page.locator("#review textarea").fill(REVIEW)
            page.locator("#classify").click()
            page.locator("#labels").get_by_text(expected_label).first.wait_for(timeout=30_000)
            page.screenshot(path=str(out / "browser_sentiment.png"), full_page=True)
        finally:
            context.close()
            demo.close()

    outside = [
        u
        for u in requests
        if not u.startswith(("data:", "blob:"))
        and (urlparse(u).hostname != "127.0.0.1" or urlparse(u).port != port)
    ]
    assert requests and not outside, f"the page fetched from outside 127.0.0.1: {outside}"
    assert not outgoing, f"the app contacted hosts outside 127.0.0.1: {sorted(set(outgoing))}"
    print(
        f"browser test: {len(requests)} requests, all to 127.0.0.1:{port}; "
        f"{len(snapshots)} streamed snapshots; {time.perf_counter() - started:.1f} s; "
        f"screenshots in {out}"
    )


def test_the_readme_command_starts_the_app_and_prints_its_address():
    """`python apps/chat/app.py --port N` serves the page at the address it prints."""
    import os
    import subprocess
    import urllib.request

    port = _free_port()
    command = [sys.executable, str(APP_DIR / "app.py"), "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines, deadline = [], time.time() + 120
        while time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "running at" in line:
                break
        printed = "".join(lines)
        assert f"http://127.0.0.1:{port}" in printed, printed[-2000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
