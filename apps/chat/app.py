"""A chat web demo with a sentiment tab: the write-up's ``web_demo.py``, rebuilt with Gradio.

Run it from the project root with ``python apps/chat/app.py`` and open the address it prints
(http://127.0.0.1:7860 unless that port is taken). Lesson 08 explains every part.

- **Chat tab**: a streaming chat with the course's ``chat`` model, keeping the conversation
  history; temperature and reply length in the page; a clear button.
- **Sentiment tab**: the ``sentiment`` model's probability for every label.

Private by default: the server listens on 127.0.0.1 only, makes no share link, sends no
analytics and uses system fonts (nothing is fetched from the internet by the page). Inside
this project the models come from ``tutorial_utils`` (the Hub online, packaged models
offline); on a Hugging Face Space, where ``tutorial_utils`` is not installed, they are the
Hub models named below. ``CHAT_CHECKPOINT`` / ``SENTIMENT_CHECKPOINT`` override both.
"""

from __future__ import annotations

import os

# Before gradio and huggingface_hub are imported: no usage statistics, no version checks.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
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
SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly."
TEMPERATURE_RANGE = (0.0, 2.0)  # 0 means greedy decoding
MAX_NEW_TOKENS_RANGE = (1, 512)
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_NEW_TOKENS = 128
EXAMPLE_REVIEW = "I love using transformers, it's so easy and powerful!"

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

    def describe(self) -> str:
        mode = (
            "online: models from the Hugging Face Hub"
            if self.online
            else "offline: local models, no Hub needed"
        )
        return f"Chat model **{self.chat_label}** · sentiment model **{self.sentiment_label}** · {mode}"


def choose_checkpoints() -> Checkpoints:
    """The course's roles when ``tutorial_utils`` is installed, else the Hub models (a Space)."""
    chat, sentiment = os.environ.get("CHAT_CHECKPOINT"), os.environ.get("SENTIMENT_CHECKPOINT")
    try:
        import tutorial_utils as tu
    except ImportError:  # on a Space: plain Hub ids
        chat, sentiment = chat or CHAT_MODEL, sentiment or SENTIMENT_MODEL
        return Checkpoints(chat, sentiment, chat, sentiment, online=True)
    chat_source, sentiment_source = tu.loading.resolve("chat"), tu.loading.resolve("sentiment")
    return Checkpoints(
        chat or chat_source.model,
        sentiment or sentiment_source.model,
        chat or chat_source.label,
        sentiment or sentiment_source.label,
        online=chat_source.online,
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


class _StopWhenSet(StoppingCriteria):
    """Stops ``generate`` when the page goes away (the reply generator is closed)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


class ChatApp:
    """The models and the two functions the page calls: :meth:`respond` and :meth:`classify`."""

    def __init__(
        self, tokenizer, model, classifier, description: str, max_input_tokens: int | None = None
    ):
        self.tokenizer, self.model, self.classifier = tokenizer, model, classifier
        self.description = description
        context = getattr(model.config, "max_position_embeddings", 2048)
        # What the model reads: its context minus room for the longest reply the page allows.
        self.max_input_tokens = max_input_tokens or context - MAX_NEW_TOKENS_RANGE[1]

    @classmethod
    def load(
        cls, checkpoints: Checkpoints | None = None, max_input_tokens: int | None = None
    ) -> ChatApp:
        """Load the chat model, its tokenizer and the sentiment pipeline."""
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()  # no load reports or progress bars
        transformers_logging.disable_progress_bar()
        checkpoints = checkpoints or choose_checkpoints()
        device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = AutoTokenizer.from_pretrained(checkpoints.chat)
        model = AutoModelForCausalLM.from_pretrained(checkpoints.chat).to(device).eval()
        classifier = pipeline("text-classification", model=checkpoints.sentiment, device=device)
        return cls(tokenizer, model, classifier, checkpoints.describe(), max_input_tokens)

    # --- chat -------------------------------------------------------------------------------

    def _encode(self, messages: list[dict]) -> torch.Tensor:
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )["input_ids"]

    def prepare(self, message: str, history: list[dict]) -> tuple[torch.Tensor, str]:
        """Prompt ids for ``message`` after ``history``, fitted into ``max_input_tokens``.

        The oldest exchanges are left out first; a message that alone is too long is cut.
        Returns the ids and a notice for the page ("" when nothing was changed).
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
        if ids.shape[1] > self.max_input_tokens:
            message_ids = self.tokenizer(message, add_special_tokens=False)["input_ids"]
            overhead = self._encode(system + [{"role": "user", "content": ""}]).shape[1]
            budget = self.max_input_tokens - overhead
            if budget < 1:
                raise bad_input(
                    "The system prompt alone fills the model's input: shorten SYSTEM_PROMPT."
                )
            while True:  # decoding and encoding again can change the count by a token or two
                kept = self.tokenizer.decode(message_ids[:budget])
                ids = self._encode(system + [{"role": "user", "content": kept}])
                if ids.shape[1] <= self.max_input_tokens or budget <= 1:
                    break
                budget -= ids.shape[1] - self.max_input_tokens
            notices.append(
                f"Your message is {len(message_ids)} tokens long, more than the "
                f"{self.max_input_tokens} tokens this demo lets the model read: only its first "
                f"{budget} tokens were used."
            )
        return ids, " ".join(notices)

    def respond(
        self,
        message: str,
        history: list[dict],
        temperature: float = DEFAULT_TEMPERATURE,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    ) -> Iterator[tuple[list[dict], str, str]]:
        """Stream the reply: yields (chat history, text left in the message box, notice)."""
        temperature, max_new_tokens = check_settings(temperature, max_new_tokens)
        history = list(history or [])
        if not message or not message.strip():
            yield history, "", "The message is empty: type a question, then press Enter."
            return
        input_ids, notice = self.prepare(message, history)  # notice: shown under the chat
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()
        settings = dict(
            input_ids=input_ids.to(self.model.device),
            attention_mask=torch.ones_like(input_ids).to(self.model.device),
            max_new_tokens=max_new_tokens,
            repetition_penalty=1.1,
            streamer=streamer,
            stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop)]),
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
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

        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        thread = threading.Thread(target=generate, daemon=True)
        thread.start()
        try:
            for piece in streamer:
                history[-1]["content"] += piece
                yield history, "", notice
        finally:
            stop.set()  # the page went away mid-reply: stop generating
        thread.join()
        if failure:
            raise gr.Error(f"Generation failed: {failure[0]}")
        yield history, "", notice

    # --- sentiment --------------------------------------------------------------------------

    def classify(self, text: str) -> dict[str, float]:
        """Probability of every label for ``text``."""
        if not text or not text.strip():
            raise bad_input("The review is empty: type a sentence to classify.")
        scores = self.classifier(text, top_k=None, truncation=True)
        return {row["label"]: float(row["score"]) for row in scores}


def build_demo(app: ChatApp) -> gr.Blocks:
    """The page: a header naming the models, a chat tab and a sentiment tab."""
    with gr.Blocks(title="Transformers course chat demo", analytics_enabled=False) as demo:
        gr.Markdown("## Chat demo\n" + app.description, elem_id="model-info")
        with gr.Tab("Chat", id="chat"):
            chatbot = gr.Chatbot(label="Conversation", height=380, elem_id="chatbot")
            message = gr.Textbox(
                label="Message", placeholder="Type a message and press Enter", elem_id="message"
            )
            with gr.Row():
                send = gr.Button("Send", variant="primary", elem_id="send")
                clear = gr.Button("Clear", elem_id="clear")
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
            inputs = [message, chatbot, temperature, max_new_tokens]
            outputs = [chatbot, message, notice]
            message.submit(app.respond, inputs, outputs, api_name="chat")
            send.click(app.respond, inputs, outputs, api_visibility="private")
            clear.click(lambda: ([], "", ""), None, outputs, api_name="clear")
        with gr.Tab("Sentiment", id="sentiment"):
            review = gr.Textbox(label="Review", value=EXAMPLE_REVIEW, lines=2, elem_id="review")
            classify = gr.Button("Classify", variant="primary", elem_id="classify")
            labels = gr.Label(label="Label probabilities", elem_id="labels")
            classify.click(app.classify, review, labels, api_name="classify")
            review.submit(app.classify, review, labels, api_visibility="private")
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
