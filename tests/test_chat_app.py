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
import itertools
import re
import socket
import sys
import threading
import time
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
import yaml

from tutorial_utils.paths import output_dir, project_root

ROOT = project_root()
APP_DIR = ROOT / "apps" / "chat"
MAX_INPUT_TOKENS = 256  # small, so that the too-long-message path is quick to reach
MESSAGE = "Hello! What can you do?"
REPLY_TOKENS = 24
REVIEW = "I love using transformers, it's so easy and powerful!"  # the write-up's sentence
CHINESE_REVIEW = "质量很好，非常满意！"  # "Good quality, very satisfied!" (a product review)
LONG_REQUEST = "Tell me a long story about a dragon."
LONG_REPLY_TOKENS = 300  # long enough to press Stop or Clear in the middle


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


class GenerateLog:
    """Wraps ``model.generate``: when each call ran, its new tokens, and the most at once."""

    def __init__(self, model) -> None:
        self.calls: list[tuple[float, float, int]] = []  # (start, end, new tokens)
        self.active = self.most_at_once = 0
        self._lock = threading.Lock()
        original = model.generate

        def generate(*args, **kwargs):
            with self._lock:
                self.active += 1
                self.most_at_once = max(self.most_at_once, self.active)
            start = time.perf_counter()
            try:
                output = original(*args, **kwargs)
            finally:
                with self._lock:
                    self.active -= 1
            new_tokens = output.shape[1] - kwargs["input_ids"].shape[1]
            self.calls.append((start, time.perf_counter(), new_tokens))
            return output

        model.generate = generate

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no generation runs (within ``timeout`` seconds)."""
        deadline = time.time() + timeout
        while self.active and time.time() < deadline:
            time.sleep(0.05)
        return self.active == 0


@pytest.fixture(scope="module")
def generate_log(chat_app):
    return GenerateLog(chat_app.model)


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


def test_updates_are_whole_new_histories_each_the_start_of_the_next(chat_app):
    updates = list(chat_app.respond(MESSAGE, [], 0.0, REPLY_TOKENS))
    replies = [history[-1]["content"] for history, _, _ in updates]
    assert len({id(history) for history, _, _ in updates}) == len(updates)  # no shared list
    assert len(set(replies)) > 1, "the reply did not stream"
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(replies))
    assert updates[-1][0][:1] == [{"role": "user", "content": MESSAGE}]


def test_too_long_message_keeps_its_end_with_a_notice(app_module, chat_app):
    question = "What should I do?"
    long_message = "I can't fall asleep at night. " * 60 + question
    prepared = chat_app.prepare(long_message, [])
    assert prepared.ids.shape[1] <= MAX_INPUT_TOKENS
    assert long_message.endswith(prepared.message) and prepared.message.endswith(question)
    assert 0 < len(prepared.message) < len(long_message)
    start = len(long_message) - len(prepared.message)
    assert long_message[start - 1] == " " != long_message[start]  # cut before a word
    assert (
        f"{MAX_INPUT_TOKENS} tokens" in prepared.notice and "beginning was cut" in prepared.notice
    )
    assert f"({start} left out)" in prepared.notice
    # Nearly as much as fits is kept: 31 more characters (a word and more) would not fit.
    system = [{"role": "system", "content": app_module.SYSTEM_PROMPT}]
    longer = [{"role": "user", "content": long_message[start - 31 :]}]
    assert chat_app._encode(system + longer).shape[1] > MAX_INPUT_TOKENS
    updates = list(chat_app.respond(long_message, [], 0.0, 4))
    history, _, shown = updates[-1]
    assert shown == prepared.notice
    assert history[-2]["content"] == long_message  # the chat shows what was typed
    assert history[-1]["role"] == "assistant" and history[-1]["content"]


def test_long_chinese_message_is_cut_in_whole_characters(chat_app):
    question = "晚上睡不着应该怎么办？"
    long_message = "我晚上总是睡不着，" * 80 + question
    prepared = chat_app.prepare(long_message, [])
    assert prepared.ids.shape[1] <= MAX_INPUT_TOKENS
    assert long_message.endswith(prepared.message) and prepared.message.endswith(question)
    assert "\ufffd" not in prepared.message
    assert "\ufffd" not in chat_app.tokenizer.decode(prepared.ids[0])
    # Why the app cuts text, not ids: some cuts of the token ids split a character.
    ids = chat_app.tokenizer(long_message, add_special_tokens=False)["input_ids"]
    naive = [chat_app.tokenizer.decode(ids[-keep:]) for keep in range(1, 12)]
    assert any("\ufffd" in text for text in naive), "this tokenizer never splits a character"


def test_long_history_drops_the_oldest_turns(chat_app):
    turn = "Tell me about movies. " * 20
    history = []
    for _ in range(4):
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": turn}]
    ids, notice, _ = chat_app.prepare("And now?", history)
    assert ids.shape[1] <= MAX_INPUT_TOKENS
    assert "Earlier messages were left out" in notice
    short_ids, short_notice, _ = chat_app.prepare("And now?", history[-2:])
    assert short_notice == "" and short_ids.shape[1] < MAX_INPUT_TOKENS


def test_pad_token_id_falls_back_only_when_there_is_none(app_module):
    from types import SimpleNamespace

    pad = app_module.pad_token_id
    assert pad(SimpleNamespace(pad_token_id=0, eos_token_id=2)) == 0  # id 0 is a real id
    assert pad(SimpleNamespace(pad_token_id=5, eos_token_id=2)) == 5
    assert pad(SimpleNamespace(pad_token_id=None, eos_token_id=2)) == 2
    assert pad(SimpleNamespace(pad_token_id=None, eos_token_id=0)) == 0


def test_stop_ends_a_running_reply(chat_app, generate_log):
    calls = len(generate_log.calls)
    updates = chat_app.respond("Tell me a long story about a dragon.", [], 0.0, 200)
    next(updates)
    assert chat_app.stop() is True
    assert list(updates) == []  # nothing after a stop; returns once generate() has ended
    (_, _, new_tokens), *more = generate_log.calls[calls:]
    assert not more and new_tokens < 40, f"generate() went on for {new_tokens} tokens"
    assert chat_app.stop() is False  # no reply is running any more


def _run(updates) -> tuple[list, str | None]:
    """Every update of a ``respond`` generator, and what it returned (why it ended)."""
    seen = []
    while True:
        try:
            seen.append(next(updates))
        except StopIteration as end:
            return seen, end.value


def test_a_reply_says_why_it_ended(chat_app):
    _, reason = _run(chat_app.respond(MESSAGE, [], 0.0, 4, session="ends"))
    assert reason is None  # it ended by itself
    updates = chat_app.respond(LONG_REQUEST, [], 0.0, 200, session="ends")
    next(updates)
    assert chat_app.stop("ends", reason="clear") is True
    assert _run(updates) == ([], "clear")


def test_stop_reaches_a_reply_still_waiting_in_the_queue(chat_app, generate_log):
    calls = len(generate_log.calls)
    chat_app.expect("queued")  # the page's `show`: the message is on its way to the queue
    assert chat_app.stop("queued") is True  # Stop pressed before the reply began
    assert _run(chat_app.respond(LONG_REQUEST, [], 0.0, 200, session="queued")) == ([], "stop")
    assert len(generate_log.calls) == calls, "a stopped reply must not generate"
    assert chat_app.stop("queued") is False  # nothing left to stop
    # The next message of that session is answered as usual.
    updates, reason = _run(chat_app.respond(MESSAGE, [], 0.0, 4, session="queued"))
    assert reason is None and updates[-1][0][-1]["content"]
    assert len(generate_log.calls) == calls + 1


def test_classify_returns_every_label_and_rejects_empty_text(chat_app):
    import gradio as gr

    scores, warning = chat_app.classify(REVIEW)
    assert len(scores) >= 2 and abs(sum(scores.values()) - 1) < 1e-4
    assert warning == ""
    with pytest.raises(gr.Error, match="empty"):
        chat_app.classify("  ")


def test_sentiment_returns_one_result_per_text_in_order(chat_app):
    texts = [REVIEW, "A dull, lifeless and boring film.", REVIEW]
    results = chat_app.sentiment(texts)
    assert len(results) == 3 and results[0] == pytest.approx(results[2])
    for text, result in zip(texts, results, strict=True):
        alone = {r["label"]: r["score"] for r in chat_app.classifier(text, top_k=None)}
        assert result == pytest.approx(alone, abs=1e-5)
    assert max(results[0], key=results[0].get) != max(results[1], key=results[1].get)


CHINESE_NEGATIVE = "太差了，用了两天就坏了。"  # "Terrible, it broke after two days"


def test_chinese_text_goes_to_the_chinese_model_in_a_mixed_batch(chat_app):
    assert chat_app.zh_classifier is not None, "the app loaded no Chinese sentiment model"
    texts = [CHINESE_REVIEW, REVIEW, CHINESE_NEGATIVE, "A dull, lifeless and boring film."]
    readers = [chat_app.zh_classifier, chat_app.classifier] * 2
    results = chat_app.sentiment(texts)
    for text, reader, result in zip(texts, readers, results, strict=True):
        assert chat_app.classifier_for(text) is reader, text
        alone = {r["label"]: r["score"] for r in reader(text, top_k=None)}
        assert result == pytest.approx(alone, abs=1e-5), text
    chinese_labels = set(chat_app.zh_classifier.model.config.id2label.values())
    assert set(results[0]) == chinese_labels and set(results[1]) != chinese_labels
    assert max(results[0], key=results[0].get) != max(results[2], key=results[2].get)
    scores, note = chat_app.classify(CHINESE_REVIEW)
    assert scores == pytest.approx(results[0], abs=1e-5)
    assert note.startswith("Chinese text detected (100% of its letters")
    assert "English" not in note


@pytest.mark.parametrize(
    "text, share",
    [
        (CHINESE_REVIEW, 1.0),  # punctuation is not a letter
        ("我爱 transformers", 2 / 14),
        ("北京 is big", 2 / 7),
        ("这个 app 很好用", 5 / 8),
        ("Фильм был просто великолепный", 0.0),
        ("", 0.0),
        ("12345!", 0.0),
    ],
)
def test_chinese_share_counts_chinese_characters_among_letters(app_module, text, share):
    assert app_module.chinese_share(text) == pytest.approx(share)
    assert app_module.is_chinese(text) is (share >= 0.5)


@pytest.mark.parametrize(
    "text, warned",
    [
        (REVIEW, False),
        ("Great!", False),
        ("这部电影太好看了，我非常喜欢！", True),
        ("Фильм был просто великолепный", True),
        ("Ce film était vraiment magnifique, quelle surprise", True),
        ("A dull, lifeless and boring film.", False),
    ],
)
def test_language_warning(app_module, text, warned):
    warning = app_module.language_warning(text)
    assert bool(warning) == warned, warning
    if warned:
        assert "English" in warning


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

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
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


class ServerLog:
    """Records how the queue ends each event (success or the error it sent to the page)."""

    def __init__(self, queue) -> None:
        self.lines: list[str] = []
        original = queue.send_message

        def send_message(event, message):
            if type(message).__name__ == "ProcessCompletedMessage":
                output = "" if message.success else f" {str(message.output)[:300]}"
                self.lines.append(
                    f"{time.strftime('%H:%M:%S')} event {event._id[:8]} fn {getattr(event.fn, 'name', '?')}: "
                    f"{'success' if message.success else 'ERROR'}{output}"
                )
            return original(event, message)

        queue.send_message = send_message

    def since(self, start: int) -> str:
        return "\n".join(self.lines[start:]) or "(no event completed)"


@pytest.fixture(scope="module")
def served(app_module, chat_app, generate_log):
    """The app on a free 127.0.0.1 port, recording outgoing connections while it runs."""
    demo = app_module.build_demo(chat_app)
    port = _free_port()
    with _outgoing_connections() as outgoing:
        url = app_module.launch(demo, port=port, prevent_thread_lock=True)
        log = ServerLog(demo._queue)
        try:
            yield SimpleNamespace(demo=demo, url=url, port=port, outgoing=outgoing, log=log)
        finally:
            demo.close()


def _why(page, served, start: int) -> str:
    """What the server and the page said since ``start``: appended to a failing assert."""
    console = "\n".join(getattr(page, "console_lines", [])[-20:]) or "(empty)"
    return f"\nserver:\n{served.log.since(start)}\npage console:\n{console}"


# Records every state of the chat the page shows: user messages, the last bot text, notice.
RECORDER_JS = """
() => {
  window.__states = [];
  const read = () => {
    const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
    const users = document.querySelectorAll('#chatbot [data-testid="user"]');
    const notice = document.querySelector('#notice');
    return {
      users: users.length,
      bots: bots.length,
      bot: bots.length ? bots[bots.length - 1].innerText : '',
      notice: notice ? notice.innerText : '',
    };
  };
  const record = () => {
    const now = read();
    const last = window.__states[window.__states.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(now)) window.__states.push(now);
  };
  new MutationObserver(record).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""
BOT_TEXT_JS = """
() => {
  const bots = document.querySelectorAll('#chatbot [data-testid="bot"]');
  return bots.length ? bots[bots.length - 1].innerText : '';
}
"""


def _set_setting(page, label: str, value: float) -> None:
    """Type ``value`` into a generation setting and wait until the app holds it."""
    from playwright.sync_api import expect

    field = page.get_by_label(f"number input for {label}")
    slider = page.get_by_label(f"range slider for {label}")
    # The slider beside the field moves once the app holds the value: a message sent
    # before then would be answered with the default settings (sampled, not greedy).
    # On a loaded machine a value typed now and then never reaches the app (CI saw the
    # slider stay at the default for 15 s), so type it again until the slider shows it.
    for attempt in range(1, 7):
        field.fill(str(value))
        field.press("Enter")
        try:
            expect(slider).to_have_value(str(value), timeout=5_000)
            return
        except AssertionError:
            if attempt == 6:
                raise


def _open_chat(browser, served, max_new_tokens: int, requests: list[str] | None = None):
    """A new browser session on the chat tab, set to greedy replies of ``max_new_tokens``."""
    context = browser.new_context(viewport={"width": 1100, "height": 950})
    page = context.new_page()
    page.console_lines = []  # read by _why() when a test fails
    page.on("console", lambda message: page.console_lines.append(f"{message.type}: {message.text}"))
    if requests is not None:
        page.on("request", lambda request: requests.append(request.url))
        page.on("websocket", lambda socket_: requests.append(socket_.url))
    page.goto(served.url, wait_until="load", timeout=60_000)
    page.locator("#model-info").wait_for()
    page.get_by_text("Generation settings").click()
    for label, value in (("Temperature (0 = greedy)", 0), ("Max new tokens", max_new_tokens)):
        _set_setting(page, label, value)
    page.evaluate(RECORDER_JS)
    return context, page


def _send(page, text: str) -> None:
    page.locator("#message textarea").fill(text)
    page.locator("#message textarea").press("Enter")


def _wait_for_reply(page, expected: str, timeout: float = 90_000) -> None:
    """Wait until the page's last reply is ``expected``; on a timeout, say what it showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            f"want => ({BOT_TEXT_JS})().toLowerCase().replace(/[^0-9a-z]/g, '') === want",
            arg=_letters(expected),
            timeout=timeout,
        )
    except PlaywrightTimeout:
        shown = page.evaluate(BOT_TEXT_JS)
        notice = page.locator("#notice").inner_text()
        console = "\n".join(getattr(page, "console_lines", [])[-20:]) or "(empty)"
        pytest.fail(
            f"after {timeout / 1000:.0f} s the page's last reply is {shown!r}, not {expected!r} "
            f"(notice {notice!r}); page console:\n{console}"
        )


def _states(page) -> list[dict]:
    return page.evaluate("window.__states")


def _thinking_was_shown(states: list[dict], users: int = 1) -> bool:
    """The user's message was on the page, with no reply yet and "Thinking" under it."""
    return any(s["users"] == users and s["bot"] == "" and "Thinking" in s["notice"] for s in states)


def _greedy_reply(chat_app, message: str, tokens: int) -> str:
    return list(chat_app.respond(message, [], 0.0, tokens))[-1][0][-1]["content"]


def test_browser_chat_and_sentiment(app_module, chat_app, served, browser):
    import gradio as gr

    started = time.perf_counter()
    out = output_dir("08_web_demo")
    # What the page must show: the greedy reply and the top label, computed without the page.
    expected = _greedy_reply(chat_app, MESSAGE, REPLY_TOKENS)
    expected_label = max(chat_app.sentiment([REVIEW])[0].items(), key=lambda item: item[1])[0]

    assert urlparse(served.url).hostname == "127.0.0.1"
    assert urlparse(served.url).port == served.port
    assert served.demo.share is False and served.demo.analytics_enabled is False
    fonts = app_module.THEME._font + app_module.THEME._font_mono
    assert not any(isinstance(font, gr.themes.GoogleFont) for font in fonts)

    requests: list[str] = []
    context, page = _open_chat(browser, served, REPLY_TOKENS, requests)
    try:
        info = page.locator("#model-info").inner_text()
        assert ("offline" if "offline" in chat_app.description else "online") in info

        # An empty message gets a notice saying what to do, and no message in the chat.
        page.locator("#message textarea").press("Enter")
        page.locator("#notice").get_by_text("The message is empty").wait_for(timeout=15_000)
        assert page.locator('#chatbot [data-testid="user"]').count() == 0

        _send(page, MESSAGE)
        _wait_for_reply(page, expected, timeout=60_000)
        states = _states(page)
        assert _thinking_was_shown(states), f"no thinking state before the reply: {states[:6]}"
        replies = [s["bot"] for s in states if s["bot"]]
        assert len(set(replies)) >= 2, f"the reply did not stream: {replies}"
        assert all(_letters(expected).startswith(_letters(text)) for text in replies)
        user = page.locator('#chatbot [data-testid="user"]').last.inner_text().strip()
        assert user == MESSAGE
        page.wait_for_function("() => !document.querySelector('#message textarea').disabled")
        assert page.locator("#stop").is_disabled() and page.locator("#send").is_enabled()
        assert "Thinking" not in page.locator("#notice").inner_text()
        page.screenshot(path=str(out / "browser_chat.png"), full_page=True)

        # The sentiment tab: an English review, then a Chinese one, typed key by key, which
        # the Chinese model reads (the page says so and shows that model's top label).
        page.get_by_role("tab", name="Sentiment").click()
        page.locator("#review textarea").fill(REVIEW)
        page.locator("#classify").click()
        page.locator("#labels").get_by_text(expected_label).first.wait_for(timeout=30_000)
        assert "English" not in page.locator("#sentiment-warning").inner_text()
        page.screenshot(path=str(out / "browser_sentiment.png"), full_page=True)
        page.locator("#review textarea").fill("")
        page.locator("#review textarea").press_sequentially(CHINESE_REVIEW)
        assert page.locator("#review textarea").input_value() == CHINESE_REVIEW
        page.locator("#classify").click()
        page.locator("#sentiment-warning").get_by_text("Chinese text detected").wait_for(
            timeout=30_000
        )
        chinese_scores, _ = chat_app.classify(CHINESE_REVIEW)
        chinese_label = max(chinese_scores, key=chinese_scores.get)
        page.locator("#labels").get_by_text(chinese_label).first.wait_for(timeout=30_000)
        assert "English" not in page.locator("#sentiment-warning").inner_text()
        page.screenshot(path=str(out / "browser_sentiment_chinese.png"), full_page=True)
    finally:
        context.close()

    outside = [
        u
        for u in requests
        if not u.startswith(("data:", "blob:"))
        and (urlparse(u).hostname != "127.0.0.1" or urlparse(u).port != served.port)
    ]
    assert requests and not outside, f"the page fetched from outside 127.0.0.1: {outside}"
    outgoing = sorted(set(served.outgoing))
    assert not outgoing, f"the app contacted hosts outside 127.0.0.1: {outgoing}"
    print(
        f"browser test: {len(requests)} requests, all to 127.0.0.1:{served.port}; "
        f"{len(set(replies))} streamed texts; {time.perf_counter() - started:.1f} s; "
        f"screenshots in {out}"
    )


def test_browser_stop_ends_the_reply(chat_app, served, browser, generate_log):
    out = output_dir("08_web_demo")
    context, page = _open_chat(browser, served, LONG_REPLY_TOKENS)
    try:
        calls, logged = len(generate_log.calls), len(served.log.lines)
        _send(page, LONG_REQUEST)
        page.wait_for_function(f"() => ({BOT_TEXT_JS})().length >= 20", timeout=60_000)
        assert page.locator("#stop").is_enabled()
        assert page.locator("#message textarea").is_disabled()  # no second message meanwhile
        page.locator("#stop").click()
        try:
            page.locator("#notice").get_by_text("Stopped").wait_for(timeout=15_000)
        except Exception as error:
            notice = page.locator("#notice").inner_text()
            raise AssertionError(
                f"notice {notice!r}, not Stopped{_why(page, served, logged)}"
            ) from error
        assert generate_log.wait_idle(15), "generate() still runs after Stop"
        (_, _, new_tokens), *more = generate_log.calls[calls:]
        assert not more and new_tokens < LONG_REPLY_TOKENS, new_tokens
        stopped_text = page.evaluate(BOT_TEXT_JS)
        time.sleep(1.5)
        assert page.evaluate(BOT_TEXT_JS) == stopped_text != ""  # the partial reply stays
        page.screenshot(path=str(out / "browser_stopped.png"), full_page=True)
        page.wait_for_function("() => !document.querySelector('#message textarea').disabled")
        assert page.locator("#stop").is_disabled()

        # The conversation goes on after a stop.
        _set_setting(page, "Max new tokens", 8)
        _send(page, "Thanks!")
        page.wait_for_function(
            "() => document.querySelectorAll('#chatbot [data-testid=\"bot\"]').length === 2"
            f" && ({BOT_TEXT_JS})().length > 0",
            timeout=60_000,
        )
        assert generate_log.wait_idle(30) and len(generate_log.calls) == calls + 2
    finally:
        context.close()


def test_browser_clear_during_a_reply_empties_the_chat_for_good(served, browser, generate_log):
    context, page = _open_chat(browser, served, LONG_REPLY_TOKENS)
    try:
        calls, logged = len(generate_log.calls), len(served.log.lines)
        _send(page, LONG_REQUEST)
        page.wait_for_function(f"() => ({BOT_TEXT_JS})().length >= 10", timeout=60_000)
        page.locator("#clear").click()
        assert generate_log.wait_idle(15), "generate() still runs after Clear"
        (_, _, new_tokens), *more = generate_log.calls[calls:]
        assert not more and new_tokens < LONG_REPLY_TOKENS, new_tokens
        time.sleep(2)  # a reply that was not cancelled would write into the chat again
        count = "document.querySelectorAll('#chatbot [data-testid=\"{}\"]').length"
        assert page.evaluate(f"() => {count.format('user')} + {count.format('bot')}") == 0
        notice = page.locator("#notice").inner_text().strip()
        assert notice == "", f"notice {notice!r}{_why(page, served, logged)}"
        assert page.locator("#message textarea").is_enabled()
    finally:
        context.close()


def test_browser_enter_then_send_starts_one_generation(chat_app, served, browser, generate_log):
    expected = _greedy_reply(chat_app, MESSAGE, REPLY_TOKENS)
    context, page = _open_chat(browser, served, REPLY_TOKENS)
    try:
        calls = len(generate_log.calls)
        page.locator("#message textarea").fill(MESSAGE)
        page.locator("#message textarea").press("Enter")
        page.evaluate("() => document.querySelector('#send').click()")  # at once, no waiting
        _wait_for_reply(page, expected)
        assert generate_log.wait_idle(30)
        time.sleep(1)
        assert len(generate_log.calls) == calls + 1, "Enter and Send ran two generations"
        assert page.locator('#chatbot [data-testid="user"]').count() == 1
    finally:
        context.close()


def test_browser_two_sessions_at_once_queue_for_the_model(chat_app, served, browser, generate_log):
    messages = [MESSAGE, "Name three fruits."]
    expected = [_greedy_reply(chat_app, message, REPLY_TOKENS) for message in messages]
    sessions = [_open_chat(browser, served, REPLY_TOKENS) for _ in messages]
    try:
        calls = len(generate_log.calls)
        for (_, page), message in zip(sessions, messages, strict=True):
            page.locator("#message textarea").fill(message)
        for _, page in sessions:  # both press Enter at (nearly) the same time
            page.locator("#message textarea").press("Enter")
        for (_, page), reply in zip(sessions, expected, strict=True):
            _wait_for_reply(page, reply)  # each session gets the reply to its own message
        assert generate_log.wait_idle(30)
        first, second = sorted(generate_log.calls[calls:])
        assert second[0] >= first[1], "two generations ran on the model at once"
        for _, page in sessions:
            assert _thinking_was_shown(_states(page)), "a message did not appear at once"
    finally:
        for context, _ in sessions:
            context.close()


def test_browser_long_message_is_cut_with_a_notice(chat_app, served, browser):
    long_message = "I can't fall asleep at night. " * 60 + "What should I do?"
    notice = chat_app.prepare(long_message, []).notice
    context, page = _open_chat(browser, served, 8)
    try:
        _send(page, long_message)
        page.locator("#notice").get_by_text("beginning was cut").wait_for(timeout=60_000)
        assert " ".join(page.locator("#notice").inner_text().split()) == " ".join(notice.split())
        page.wait_for_function(f"() => ({BOT_TEXT_JS})().length > 0", timeout=60_000)
    finally:
        context.close()


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
