"""Checks for lesson 08 (a web demo and Spaces)."""

from __future__ import annotations

from collections.abc import Callable

from . import exercise, require

SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
STREAM_MESSAGE = "Name three fruits."


@exercise("08.history_from_pairs")
def check_history_from_pairs(history_from_pairs: Callable) -> None:
    """``history_from_pairs(pairs, query, system_prompt=None)`` -> a messages list."""
    pairs = [
        ("Hello", "Hello! I am an AI assistant. How can I help?"),
        ["I can't fall asleep at night. What should I do?", "Keep a regular bedtime."],
    ]
    query = "Which of those is the easiest to start with tonight?"
    expected = [
        {"role": "user", "content": pairs[0][0]},
        {"role": "assistant", "content": pairs[0][1]},
        {"role": "user", "content": pairs[1][0]},
        {"role": "assistant", "content": pairs[1][1]},
        {"role": "user", "content": query},
    ]
    answer = history_from_pairs(pairs, query)
    require(isinstance(answer, list), f"return a list of messages, not {type(answer).__name__}")
    require(
        all(isinstance(m, dict) and set(m) == {"role", "content"} for m in answer),
        'each message is a dict with exactly the keys "role" and "content"',
    )
    require(
        answer[-1:] == expected[-1:],
        "the new query comes last, as a user message",
    )
    require(
        [m["role"] for m in answer] == [m["role"] for m in expected],
        "each (query, response) pair becomes a user message then an assistant message, in order;"
        " no system message unless system_prompt is given",
    )
    require(answer == expected, f"expected {expected}, got {answer}")
    with_system = history_from_pairs(pairs, query, "Answer briefly.")
    require(
        with_system[:1] == [{"role": "system", "content": "Answer briefly."}]
        and with_system[1:] == expected,
        "with a system_prompt, the first message is {'role': 'system', 'content': system_prompt}",
    )
    require(
        history_from_pairs([], "Hello") == [{"role": "user", "content": "Hello"}],
        "with no earlier pairs, the history is just the query",
    )


@exercise("08.space_front_matter")
def check_space_front_matter(space_front_matter: Callable) -> None:
    """``space_front_matter(title, sdk_version, python_version)`` -> a Space README's text."""
    import yaml

    cases = [
        ("Course chat", "6.31.0", "3.11"),
        ("Course chat: the write-up's web demo", "6.31.0", "3.10"),
    ]
    for title, sdk_version, python_version in cases:
        text = space_front_matter(title, sdk_version, python_version)
        require(isinstance(text, str), f"return the README text, not {type(text).__name__}")
        require(
            text.startswith("---\n"),
            "the front matter starts on the very first line with ---",
        )
        front, closing, _ = text[4:].partition("\n---")
        require(bool(closing), "close the front matter with a line holding only ---")
        try:
            config = yaml.safe_load(front)
        except yaml.YAMLError as error:
            problem = str(error).splitlines()[0]
            require(
                False,
                f"the front matter is not valid YAML ({problem}) for title {title!r}: quote "
                "values that contain ': ', like title: \"...\"",
            )
        require(isinstance(config, dict), "the front matter should be YAML key: value lines")
        require(config.get("sdk") == "gradio", "set sdk: gradio")
        require(config.get("app_file") == "app.py", "set app_file: app.py")
        require(
            config.get("title") == title,
            f"title should read {title!r}, got {config.get('title')!r}",
        )
        require(
            config.get("sdk_version") == sdk_version,
            f"sdk_version should be the string {sdk_version!r}, got {config.get('sdk_version')!r}",
        )
        require(
            config.get("python_version") == python_version,
            f"python_version should be the string {python_version!r}, YAML read "
            f"{config.get('python_version')!r}: quote it, because 3.10 unquoted is the number 3.1",
        )
        for key in ("colorFrom", "colorTo"):
            if key in config:
                require(
                    config[key] in SPACE_COLORS,
                    f"{key} must be one of {sorted(SPACE_COLORS)}, got {config[key]!r}",
                )
        if "short_description" in config:
            require(
                len(str(config["short_description"])) <= 60,
                "short_description is limited to 60 characters",
            )


@exercise("08.stream_timing")
def check_stream_timing(stream_timing: Callable, model, tokenizer) -> None:
    """``stream_timing(message, max_new_tokens)`` -> {"first_piece_s", "total_s", "text"}."""
    import torch

    for max_new_tokens in (4, 24):
        inputs = tokenizer.apply_chat_template(
            [{"role": "user", "content": STREAM_MESSAGE}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        ).to(model.device)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        expected = tokenizer.decode(
            output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )
        answer = stream_timing(STREAM_MESSAGE, max_new_tokens)
        require(isinstance(answer, dict), f"return a dict, not {type(answer).__name__}")
        missing = {"first_piece_s", "total_s", "text"} - set(answer)
        require(not missing, f"the dict lacks {sorted(missing)}")
        require(
            answer["text"] == expected,
            f"with max_new_tokens={max_new_tokens} the streamed text should be the greedy reply "
            f"{expected!r} (one user message, add_generation_prompt=True, do_sample=False, "
            f"skip_special_tokens=True), got {answer['text']!r}",
        )
        first, total = float(answer["first_piece_s"]), float(answer["total_s"])
        require(
            0 < first <= total, "times are seconds since generate() started: 0 < first <= total"
        )
        if max_new_tokens == 24 and len(output[0]) - inputs["input_ids"].shape[1] > 4:
            require(
                first < total,
                "the first piece arrived when the whole reply did: take the time when the "
                "streamer hands out its first piece, not after the loop",
            )
