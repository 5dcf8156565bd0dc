"""A chat web demo with a sentiment tab: the write-up's ``web_demo.py``, rebuilt with Gradio.

Run it from the project root with ``python apps/chat/app.py`` and open the address it prints
(http://127.0.0.1:7860 unless that port is taken). Lesson 08 explains every part.

- **Chat tab**: a streaming chat with the course's ``chat`` model, keeping the conversation
  history; temperature and reply length in the page; Stop ends a reply, Clear empties the
  chat (and stops a reply). One reply is generated at a time: visitors wait in Gradio's queue.
- **Sentiment tab**: the probability of every label from the ``sentiment`` model (English
  reviews) or, for Chinese text, from the ``zh-sentiment`` model (Chinese reviews); the page
  says which model read the text, and warns when a text is neither English nor Chinese.

Private by default: the server listens on 127.0.0.1 only, makes no share link, sends no
analytics and uses system fonts (nothing is fetched from the internet by the page). Inside
this project the models come from ``tutorial_utils`` (the Hub online, packaged models
offline); on a Hugging Face Space, where ``tutorial_utils`` is not installed, they are the
Hub models named below. ``CHAT_CHECKPOINT``, ``SENTIMENT_CHECKPOINT`` and
``ZH_SENTIMENT_CHECKPOINT`` override both.
"""

import os

# Before gradio and huggingface_hub are imported: no usage statistics, no version checks.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402
from collections.abc import Generator, Iterator  # noqa: E402
from typing import NamedTuple  # noqa: E402

import gradio as gr  # noqa: E402
import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
    pipeline,
)

CHAT_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # what a Space (no tutorial_utils) loads
SENTIMENT_MODEL = "distilbert-base-uncased-finetuned-sst-2-english"
ZH_SENTIMENT_MODEL = "uer/roberta-base-finetuned-dianping-chinese"  # Chinese reviews
SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly."
TEMPERATURE_RANGE = (0.0, 2.0)  # 0 means greedy decoding
MAX_NEW_TOKENS_RANGE = (1, 512)
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_NEW_TOKENS = 128
EXAMPLE_REVIEW = "I love using transformers, it's so easy and powerful!"
EMPTY = "The message is empty: type a question, then press Enter."

# Fonts served by the app itself (gradio ships these files) or the system's: gradio themes
# built on GoogleFont would make every visitor's browser fetch fonts from Google.
THEME = gr.themes.Default(
    font=[gr.themes.LocalFont("Source Sans Pro"), "ui-sans-serif", "system-ui", "sans-serif"],
    font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "Consolas", "monospace"],
)


class Checkpoints(NamedTuple):
    """Which models the app runs, and a line for the page saying so."""

    chat: str
    sentiment: str
    chat_label: str
    sentiment_label: str
    online: bool
    zh_sentiment: str | None = None  # None: Chinese text goes to the English model, warned
    zh_sentiment_label: str | None = None

    def describe(self) -> str:
        mode = (
            "online: models from the Hugging Face Hub"
            if self.online
            else "offline: local models, no Hub needed"
        )
        chinese = (
            f" · Chinese sentiment model **{self.zh_sentiment_label or self.zh_sentiment}**"
            if self.zh_sentiment
            else ""
        )
        return (
            f"Chat model **{self.chat_label}** · sentiment model **{self.sentiment_label}**"
            f"{chinese} · {mode}"
        )


def choose_checkpoints() -> Checkpoints:
    """The course's roles when ``tutorial_utils`` is installed, else the Hub models (a Space)."""
    chat, sentiment = os.environ.get("CHAT_CHECKPOINT"), os.environ.get("SENTIMENT_CHECKPOINT")
    chinese = os.environ.get("ZH_SENTIMENT_CHECKPOINT")
    try:
        import tutorial_utils as tu
    except ImportError:  # on a Space: plain Hub ids
        chat, sentiment = chat or CHAT_MODEL, sentiment or SENTIMENT_MODEL
        chinese = chinese or ZH_SENTIMENT_MODEL
        return Checkpoints(chat, sentiment, chat, sentiment, True, chinese, chinese)
    chat_source, sentiment_source = tu.loading.resolve("chat"), tu.loading.resolve("sentiment")
    chinese_source = tu.loading.resolve("zh-sentiment")  # offline: built by ``prepare``
    return Checkpoints(
        chat or chat_source.model,
        sentiment or sentiment_source.model,
        chat or chat_source.label,
        sentiment or sentiment_source.label,
        chat_source.online,
        chinese or chinese_source.model,
        chinese or chinese_source.label,
    )


def text_of(content) -> str:
    """The text of a chat message's content (gradio 6 sends a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, list | tuple):
        return "".join(text_of(part) for part in content)
    return "" if content is None else str(content)


def bad_input(message: str) -> gr.Error:
    """An error the page shows as a message (and the server does not log as a traceback)."""
    return gr.Error(message, title="Bad input", print_exception=False)


def check_settings(temperature, max_new_tokens) -> tuple[float, int]:
    """Validated settings, or a ``gr.Error`` saying what is wrong and what is allowed."""
    low_t, high_t = TEMPERATURE_RANGE
    low_n, high_n = MAX_NEW_TOKENS_RANGE
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise bad_input(
            f"Temperature must be a number from {low_t} to {high_t}, not {temperature!r}."
        ) from None
    if not low_t <= temperature <= high_t:
        raise bad_input(
            f"Temperature must be from {low_t} to {high_t} (0 = always the most likely word); got {temperature}."
        )
    try:
        tokens = int(max_new_tokens)
    except (TypeError, ValueError):
        raise bad_input(f"Max new tokens must be a whole number, not {max_new_tokens!r}.") from None
    if tokens != max_new_tokens or not low_n <= tokens <= high_n:
        raise bad_input(
            f"Max new tokens must be a whole number from {low_n} to {high_n}; got {max_new_tokens}."
        )
    return temperature, tokens


class StopRequest(threading.Event):
    """The stop signal of one session's reply, and why it was given ("stop" or "clear")."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: str | None = None
        self.running = False  # True once `respond` generates for it

    def request(self, reason: str) -> None:
        self.reason = reason
        self.set()


class _StopWhenSet(StoppingCriteria):
    """Stops ``generate`` once ``event`` is set (Stop, Clear, or the page went away)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


class Prepared(NamedTuple):
    """A prompt ready for ``generate``: its ids, a notice for the page, the message read."""

    ids: torch.Tensor
    notice: str
    message: str  # the part of the user's message the model reads (its end, if it was cut)


def pad_token_id(tokenizer) -> int | None:
    """The tokenizer's padding id, else its end-of-sequence id (id 0 is a real id)."""
    if tokenizer.pad_token_id is not None:
        return tokenizer.pad_token_id
    return tokenizer.eos_token_id


# Common English words: a text of several words with none of them is probably not English.
ENGLISH_WORDS = frozenset(
    """a an the and or but not no so very too is are was were be been being am it its it's
    this that these those i me my you your he him his she her we us our they them their of to
    in on at for with from by as about than then just like love hate good bad great best worst
    movie story acting plot all some any one what which who how do does did have has had
    can could would should will i'm don't isn't wasn't""".split()
)


def chinese_share(text: str) -> float:
    """The share of Chinese characters (CJK Unified Ideographs) among the letters of ``text``."""
    letters = [c for c in text if c.isalpha()]
    return sum("\u4e00" <= c <= "\u9fff" for c in letters) / len(letters) if letters else 0.0


def is_chinese(text: str) -> bool:
    """Whether ``text`` is mostly Chinese: at least half of its letters are Chinese characters."""
    return chinese_share(text) >= 0.5


def language_warning(text: str) -> str:
    """A warning when ``text`` does not look like English, else "" (a simple check, not a
    language detector: mostly non-Latin letters, or several words and no common English one).
    """
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return ""
    latin = sum(c.isascii() for c in letters) / len(letters)
    words = re.findall(r"[a-z']+", text.lower())
    if latin < 0.5:
        reason = f"only {latin:.0%} of its letters are Latin letters"
    elif len(words) >= 4 and not any(word in ENGLISH_WORDS for word in words):
        reason = "none of its words is a common English word"
    else:
        return ""
    return (
        f"⚠️ This text does not look like English ({reason}). The sentiment model was trained "
        "on English movie reviews only: its labels for other languages mean little."
    )


class ChatApp:
    """The models and the functions the page calls (chat: :meth:`respond`; sentiment)."""

    def __init__(
        self,
        tokenizer,
        model,
        classifier,
        description: str,
        max_input_tokens: int | None = None,
        zh_classifier=None,
    ):
        self.tokenizer, self.model, self.classifier = tokenizer, model, classifier
        self.zh_classifier = zh_classifier  # for Chinese text; None: the English model, warned
        self.description = description
        context = getattr(model.config, "max_position_embeddings", 2048)
        # What the model reads: its context minus room for the longest reply the page allows.
        self.max_input_tokens = max_input_tokens or context - MAX_NEW_TOKENS_RANGE[1]
        # Each session's reply to come (registered by `expect`) or running (by `respond`): the
        # event that `stop` sets and that generation checks after every token.
        self._stops: dict[str | None, StopRequest] = {}
        self._stops_lock = threading.Lock()

    @classmethod
    def load(
        cls, checkpoints: Checkpoints | None = None, max_input_tokens: int | None = None
    ) -> "ChatApp":
        """Load the chat model, its tokenizer and the sentiment pipelines."""
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()  # no load reports or progress bars
        transformers_logging.disable_progress_bar()
        checkpoints = checkpoints or choose_checkpoints()
        device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = AutoTokenizer.from_pretrained(checkpoints.chat)
        model = AutoModelForCausalLM.from_pretrained(checkpoints.chat).to(device).eval()
        classifier = pipeline("text-classification", model=checkpoints.sentiment, device=device)
        chinese = checkpoints.zh_sentiment and pipeline(
            "text-classification", model=checkpoints.zh_sentiment, device=device
        )
        return cls(
            tokenizer, model, classifier, checkpoints.describe(), max_input_tokens, chinese or None
        )

    # --- chat -------------------------------------------------------------------------------

    def _encode(self, messages: list[dict]) -> torch.Tensor:
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )["input_ids"]

    def _keep_end(self, message: str, system: list[dict]) -> str:
        """The longest end of ``message`` that fits, starting at a word when one starts soon.

        Cutting the text (not the token ids) never splits a character: cutting byte-level
        tokens can leave half a character, which decodes to U+FFFD.
        """

        def fits(start: int) -> bool:
            ids = self._encode(system + [{"role": "user", "content": message[start:]}])
            return ids.shape[1] <= self.max_input_tokens

        if not fits(len(message)):
            raise bad_input(
                "The system prompt alone fills the model's input: shorten SYSTEM_PROMPT."
            )
        low, high = 0, len(message)  # message[low:] is too long, message[high:] fits
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if fits(middle) else (middle, high)
        space = message.find(" ", high, high + 30)  # do not show half a word
        if space != -1 and fits(space + 1):
            high = space + 1
        return message[high:]

    def prepare(self, message: str, history: list[dict]) -> Prepared:
        """Prompt ids for ``message`` after ``history``, fitted into ``max_input_tokens``.

        The oldest exchanges are left out first; a message that alone is too long loses its
        beginning (the question is usually at the end). The notice says what was left out
        ("" when nothing was).
        """
        system = [{"role": "system", "content": SYSTEM_PROMPT}]
        turns = [
            {"role": m["role"], "content": text_of(m.get("content"))}
            for m in history
            if m.get("role") in ("user", "assistant")
        ]
        notices, dropped = [], 0
        while True:
            ids = self._encode(system + turns + [{"role": "user", "content": message}])
            if ids.shape[1] <= self.max_input_tokens or not turns:
                break
            turns = turns[1:]
            while turns and turns[0]["role"] != "user":  # start again at a user turn
                turns = turns[1:]
            dropped += 1
        if dropped:
            notices.append(
                "Earlier messages were left out so that the conversation fits the model."
            )
        kept = message
        if ids.shape[1] > self.max_input_tokens:
            tokens = len(self.tokenizer(message, add_special_tokens=False)["input_ids"])
            kept = self._keep_end(message, system)
            ids = self._encode(system + [{"role": "user", "content": kept}])
            cut = len(message) - len(kept)
            start = " ".join(kept[:60].split())
            notices.append(
                f"Your message is {tokens} tokens long, more than the {self.max_input_tokens} "
                f"tokens this demo lets the model read: its beginning was cut. The model read "
                f"only the last {len(kept)} of its {len(message)} characters ({cut} left out), "
                f"from “{start}…”."
            )
        return Prepared(ids, " ".join(notices), kept)

    def respond(
        self,
        message: str,
        history: list[dict],
        temperature: float = DEFAULT_TEMPERATURE,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        session: str | None = None,
    ) -> Generator[tuple[list[dict], str, str], None, str | None]:
        """Stream the reply: yields (chat history, text left in the message box, notice).

        Every update is a new history (the last message is the reply so far). :meth:`stop`
        with the same ``session`` ends the reply; nothing is yielded after that, and the
        generator returns the reason given to ``stop`` ("stop" or "clear"; None when the reply
        ended by itself). A reply stopped before it began (see :meth:`expect`) generates
        nothing.
        """
        temperature, max_new_tokens = check_settings(temperature, max_new_tokens)
        history = [dict(m) for m in history or []]
        if not message or not message.strip():
            yield history, "", EMPTY
            return
        prepared = self.prepare(message, history)  # its notice is shown under the chat
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        with self._stops_lock:  # the request `expect` registered, or a new one
            stop = self._stops.get(session)
            if stop is None or stop.running:
                stop = StopRequest()
            stop.running = True
            self._stops[session] = stop
        if stop.is_set():  # stopped while it waited in the queue
            with self._stops_lock:
                if self._stops.get(session) is stop:
                    del self._stops[session]
            return stop.reason
        settings = dict(
            input_ids=prepared.ids.to(self.model.device),
            attention_mask=torch.ones_like(prepared.ids).to(self.model.device),
            max_new_tokens=max_new_tokens,
            repetition_penalty=1.1,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop)]),
            pad_token_id=pad_token_id(self.tokenizer),
        )
        if temperature > 0:
            settings.update(do_sample=True, temperature=temperature, top_p=0.9)
        else:
            settings.update(do_sample=False)
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with torch.no_grad():
                    self.model.generate(**settings)
            except BaseException as error:  # shown in the page below, not lost in a thread
                failure.append(error)
                streamer.end()

        asked = history + [{"role": "user", "content": message}]
        thread = threading.Thread(target=generate, daemon=True)
        thread.start()
        reply = ""
        try:
            for piece in streamer:
                if stop.is_set():  # Stop or Clear: the page shows what it has (or nothing)
                    break
                if piece:  # the streamer also hands out "" (see lesson 08)
                    reply += piece
                    yield asked + [{"role": "assistant", "content": reply}], "", prepared.notice
        finally:
            stopped = stop.is_set()
            stop.set()  # also when the page went away mid-reply: stop generating
            with self._stops_lock:
                if self._stops.get(session) is stop:
                    del self._stops[session]
        thread.join()
        if failure:
            raise gr.Error(f"Generation failed: {failure[0]}")
        if stopped:
            return stop.reason
        yield asked + [{"role": "assistant", "content": reply}], "", prepared.notice
        return None

    def expect(self, session: str | None) -> None:
        """Register the reply ``session`` is about to ask for, so that :meth:`stop` reaches it
        while it still waits in the queue behind another visitor's reply."""
        with self._stops_lock:
            running = self._stops.get(session)
            if running is None or not running.running:
                self._stops[session] = StopRequest()

    def stop(self, session: str | None = None, reason: str = "stop") -> bool:
        """End the running (or expected) reply of ``session``; False when it had none.

        ``reason`` ("stop" or "clear") is what that reply's :meth:`respond` returns.
        """
        with self._stops_lock:
            event = self._stops.get(session)
        if event is None:
            return False
        event.request(reason)
        return True

    # --- sentiment --------------------------------------------------------------------------

    def classifier_for(self, text: str):
        """The pipeline that reads ``text``: the Chinese one for Chinese text, if the app has it."""
        return self.zh_classifier if self.zh_classifier and is_chinese(text) else self.classifier

    def sentiment(self, texts: list[str]) -> list[dict[str, float]]:
        """Probability of every label for each text, in the order of ``texts``.

        Chinese texts go to the Chinese model and the others to the English one; each text's
        result comes back at its own position.
        """
        texts = list(texts)
        results: list[dict[str, float]] = [{} for _ in texts]
        for classifier in {id(c): c for c in map(self.classifier_for, texts)}.values():
            positions = [i for i, t in enumerate(texts) if self.classifier_for(t) is classifier]
            scored = classifier([texts[i] for i in positions], top_k=None, truncation=True)
            for i, rows in zip(positions, scored, strict=True):
                results[i] = {row["label"]: float(row["score"]) for row in rows}
        return results

    def note(self, text: str) -> str:
        """What the page says under the labels: which model read a Chinese text, or a warning."""
        if self.classifier_for(text) is self.zh_classifier:
            name = self.zh_classifier.model.config.name_or_path
            shown = os.path.basename(name.rstrip("/\\")) if os.path.isdir(name) else name
            return (
                f"Chinese text detected ({chinese_share(text):.0%} of its letters are Chinese "
                f"characters): classified by the Chinese sentiment model `{shown}`."
            )
        return language_warning(text)

    def classify(self, text: str) -> tuple[dict[str, float], str]:
        """Label probabilities for ``text`` and the note under them ("" for English text)."""
        if not text or not text.strip():
            raise bad_input("The review is empty: type a sentence to classify.")
        return self.sentiment([text])[0], self.note(text)


# --- the page -------------------------------------------------------------------------------

THINKING = "⏳ Thinking: the model is reading your message…"
STOPPED = "Stopped: the reply above was cut short."


def _controls(replying: bool, **message) -> tuple[gr.Textbox, gr.Button, gr.Button]:
    """Message box, Send and Stop while a reply is written (True) or not (False).

    ``message`` sets more of the box (``value=""`` empties it).
    """
    return (
        gr.Textbox(interactive=not replying, **message),
        gr.Button(interactive=not replying),
        gr.Button(interactive=replying),
    )


def build_demo(app: ChatApp) -> gr.Blocks:
    """The page: a header naming the models, a chat tab and a sentiment tab.

    A message goes through three steps: ``show`` puts it in the chat at once (outside the
    queue) and locks the message box, ``reply`` streams the answer (in the queue, one at a
    time for the whole app: ``concurrency_limit=1``), then the box is unlocked. Stop and
    Clear ask the app to stop the model (:meth:`ChatApp.stop`); the reply then ends by
    itself, as a finished event, and its last update says how it ended.
    """

    def show(message: str, history: list[dict], request: gr.Request):
        history = list(history or [])
        if not message or not message.strip():  # (errors of queue=False events are not shown)
            return message, history, EMPTY, None, *_controls(replying=False)[1:]
        app.expect(request.session_hash)  # Stop reaches the reply even while it is queued
        history.append({"role": "user", "content": message})
        box, send, stop = _controls(replying=True, value="")
        return box, history, THINKING, message, send, stop

    def reply(
        pending: str | None, history: list[dict], temperature, max_new_tokens, request: gr.Request
    ):
        if pending is None:  # nothing was sent
            yield gr.skip(), gr.skip()
            return
        updates = app.respond(
            pending, history[:-1], temperature, max_new_tokens, session=request.session_hash
        )
        try:
            while True:
                try:
                    new_history, _, notice = next(updates)
                except StopIteration as end:  # its value: why the reply ended
                    ended_by = end.value
                    break
                yield new_history, notice
        finally:  # also when the page went away
            updates.close()
        # The last word, after any update still on its way to the page: Stop keeps the
        # partial reply and says so; Clear leaves an empty chat.
        if ended_by == "stop":
            yield gr.skip(), STOPPED
        elif ended_by == "clear":
            yield [], ""

    def chat(
        message: str,
        history: list[dict],
        temperature: float = DEFAULT_TEMPERATURE,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        request: gr.Request = None,
    ) -> Iterator[tuple[list[dict], str, str]]:
        """Stream the reply to `message` after `history`: yields (history, "", notice)."""
        session = request.session_hash if request else None
        yield from app.respond(message, history, temperature, max_new_tokens, session=session)

    def stop(request: gr.Request):
        app.stop(request.session_hash, reason="stop")
        return STOPPED, *_controls(replying=False)

    def clear(request: gr.Request):
        app.stop(request.session_hash, reason="clear")
        box, send, stop = _controls(replying=False, value="")
        return [], box, "", send, stop

    with gr.Blocks(title="Transformers course chat demo", analytics_enabled=False) as demo:
        gr.Markdown("## Chat demo\n" + app.description, elem_id="model-info")
        with gr.Tab("Chat", id="chat"):
            chatbot = gr.Chatbot(label="Conversation", height=380, elem_id="chatbot")
            message = gr.Textbox(
                label="Message", placeholder="Type a message and press Enter", elem_id="message"
            )
            with gr.Row():
                send = gr.Button("Send", variant="primary", elem_id="send")
                stop_button = gr.Button("Stop", variant="stop", interactive=False, elem_id="stop")
                clear_button = gr.Button("Clear", elem_id="clear")
            notice = gr.Markdown(elem_id="notice")
            with gr.Accordion("Generation settings", open=False):
                temperature = gr.Slider(
                    *TEMPERATURE_RANGE,
                    value=DEFAULT_TEMPERATURE,
                    step=0.05,
                    label="Temperature (0 = greedy)",
                )
                max_new_tokens = gr.Slider(
                    *MAX_NEW_TOKENS_RANGE,
                    value=DEFAULT_MAX_NEW_TOKENS,
                    step=1,
                    label="Max new tokens",
                )
            controls = [message, send, stop_button]
            pending = gr.State(None)  # the message being answered, None when there is none
            # One event for Enter and Send: a second press while it runs is ignored.
            shown = gr.on(
                [message.submit, send.click],
                show,
                [message, chatbot],
                [message, chatbot, notice, pending, send, stop_button],
                queue=False,
                api_visibility="private",
            )
            replying = shown.then(
                reply,
                [pending, chatbot, temperature, max_new_tokens],
                [chatbot, notice],
                api_visibility="private",
                concurrency_limit=1,  # one generation at a time; other visitors queue
                concurrency_id="chat-model",
            )
            replying.then(
                lambda: (None, *_controls(replying=False)),
                None,
                [pending, *controls],
                api_visibility="private",
            )
            # Stop and Clear stop the model instead of cancelling `reply` (with Gradio's
            # `cancels=`, the page now and then marked the chat "Error" after a Stop): `reply`
            # then ends as a finished event, and a reply still queued never starts.
            stop_button.click(stop, None, [notice, *controls], queue=False, api_name="stop")
            clear_button.click(
                clear,
                None,
                [chatbot, message, notice, send, stop_button],
                queue=False,
                api_name="clear",
            )
        # The chat for programs (gradio_client): message and history in, streamed updates out.
        gr.api(chat, api_name="chat", concurrency_limit=1, concurrency_id="chat-model")
        with gr.Tab("Sentiment", id="sentiment"):
            review = gr.Textbox(label="Review", value=EXAMPLE_REVIEW, lines=2, elem_id="review")
            classify = gr.Button("Classify", variant="primary", elem_id="classify")
            labels = gr.Label(label="Label probabilities", elem_id="labels")
            warning = gr.Markdown(elem_id="sentiment-warning")
            gr.on(
                [classify.click, review.submit],
                app.classify,
                review,
                [labels, warning],
                api_name="classify",
            )
    demo.queue(default_concurrency_limit=1)  # Gradio's default, written out
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **options):
    """Start the server: 127.0.0.1 unless told otherwise, no share link, system fonts.

    ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` are honoured (a Space sets them);
    with no port, gradio takes the first free one from 7860.
    """
    host = host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    if port is None and os.environ.get("GRADIO_SERVER_PORT"):
        port = int(os.environ["GRADIO_SERVER_PORT"])
    options.setdefault("quiet", True)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        theme=THEME,
        ssr_mode=False,
        **options,
    )
    return demo.local_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: first free from 7860)"
    )
    parser.add_argument(
        "--max-input-tokens",
        type=int,
        default=None,
        help="longest prompt the model reads (default: its context minus 512)",
    )
    args = parser.parse_args(argv)
    checkpoints = choose_checkpoints()
    print(checkpoints.describe().replace("**", ""), flush=True)
    app = ChatApp.load(checkpoints, max_input_tokens=args.max_input_tokens)
    demo = build_demo(app)
    url = launch(demo, host=args.host, port=args.port, prevent_thread_lock=True)
    print(f"Chat demo running at {url} - open it in a browser; Ctrl+C stops it.", flush=True)
    try:
        demo.block_thread()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
