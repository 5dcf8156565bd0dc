"""Checks of lessons 07 (generation) and 08 (web demo): right answers pass, wrong ones get hints."""

from __future__ import annotations

import threading
import time

import pytest
import torch
import yaml

from tutorial_utils.exercises import check

# --- lesson 07 -----------------------------------------------------------------------------


def min_p_right(scores, min_p):
    probs = scores.softmax(dim=-1)
    return scores.masked_fill(probs < min_p * probs.max(dim=-1, keepdim=True).values, -torch.inf)


def min_p_on_raw_scores(scores, min_p):
    return scores.masked_fill(scores < min_p * scores.max(dim=-1, keepdim=True).values, -torch.inf)


def min_p_returns_probabilities(scores, min_p):
    probs = scores.softmax(dim=-1)
    return probs.masked_fill(probs < min_p * probs.max(dim=-1, keepdim=True).values, -torch.inf)


def test_min_p_check(capsys):
    assert check("07.min_p", min_p_right)
    assert not check("07.min_p", min_p_on_raw_scores)
    assert "probabilities" in capsys.readouterr().out
    assert not check("07.min_p", min_p_returns_probabilities)
    assert "original scores" in capsys.readouterr().out


def _kv_heads(config):
    return getattr(config, "num_key_value_heads", None) or config.num_attention_heads


def _head_dim(config):
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def test_kv_cache_bytes_check(capsys):
    def right(config, batch, positions):
        layers = config.num_hidden_layers
        return 2 * layers * _kv_heads(config) * _head_dim(config) * batch * positions * 4

    def keys_only(config, batch, positions):
        return right(config, batch, positions) // 2

    def attention_heads(config, batch, positions):
        heads = config.num_attention_heads
        return 2 * config.num_hidden_layers * heads * _head_dim(config) * batch * positions * 4

    assert check("07.kv_cache_bytes", right)
    assert not check("07.kv_cache_bytes", keys_only)
    assert "keys AND values" in capsys.readouterr().out
    assert not check("07.kv_cache_bytes", attention_heads)
    assert "fewer key/value heads" in capsys.readouterr().out


def _top_p(scores, p):
    sorted_scores, order = scores.sort(dim=-1, descending=True)
    probs = sorted_scores.softmax(dim=-1)
    remove = (probs.cumsum(dim=-1) - probs) >= p
    return scores.masked_fill(remove.scatter(-1, order, remove), -torch.inf)


def test_nucleus_sizes_check(capsys):
    scores = torch.randn(1, 300, generator=torch.Generator().manual_seed(0)) * 3

    def right(scores, temperatures, top_p):
        return {t: int((~_top_p(scores / t, top_p).isinf()).sum()) for t in temperatures}

    def top_p_first(scores, temperatures, top_p):
        return {t: int((~(_top_p(scores, top_p) / t).isinf()).sum()) for t in temperatures}

    assert check("07.nucleus_sizes", right, scores)
    assert not check("07.nucleus_sizes", top_p_first, scores)
    assert "temperature first" in capsys.readouterr().out


# --- lesson 08 -----------------------------------------------------------------------------


def test_history_from_pairs_check(capsys):
    def right(pairs, query, system_prompt=None):
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        for asked, answered in pairs:
            messages += [
                {"role": "user", "content": asked},
                {"role": "assistant", "content": answered},
            ]
        return messages + [{"role": "user", "content": query}]

    def always_system(pairs, query, system_prompt=None):
        return [{"role": "system", "content": system_prompt or ""}] + right(pairs, query)[:]

    assert check("08.history_from_pairs", right)
    assert not check("08.history_from_pairs", always_system)
    assert "no system message" in capsys.readouterr().out


def test_space_front_matter_check(capsys):
    def right(title, sdk_version, python_version):
        config = {
            "title": title,
            "sdk": "gradio",
            "sdk_version": sdk_version,
            "python_version": python_version,
            "app_file": "app.py",
        }
        return "---\n" + yaml.safe_dump(config, sort_keys=False) + "---\n\nA demo.\n"

    def f_string(title, sdk_version, python_version):
        return (
            f'---\ntitle: "{title}"\nsdk: gradio\nsdk_version: "{sdk_version}"\n'
            f"python_version: {python_version}\napp_file: app.py\n---\n"
        )

    def unquoted_title(title, sdk_version, python_version):
        return (
            f'---\ntitle: {title}\nsdk: gradio\nsdk_version: "{sdk_version}"\n'
            f'python_version: "{python_version}"\napp_file: app.py\n---\n'
        )

    assert check("08.space_front_matter", right)
    assert not check("08.space_front_matter", f_string)
    assert "3.10 unquoted" in capsys.readouterr().out
    assert not check("08.space_front_matter", unquoted_title)
    assert "quote" in capsys.readouterr().out


@pytest.fixture(scope="module")
def chat_model():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import tutorial_utils as tu

    checkpoint = tu.loading.resolve("chat").model
    return AutoModelForCausalLM.from_pretrained(checkpoint).eval(), AutoTokenizer.from_pretrained(
        checkpoint
    )


def test_stream_timing_check(chat_model, capsys):
    from transformers import TextIteratorStreamer

    model, tokenizer = chat_model

    def stream(message, max_new_tokens, first_after_loop=False):
        inputs = tokenizer.apply_chat_template(
            [{"role": "user", "content": message}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        settings = dict(**inputs, streamer=streamer, max_new_tokens=max_new_tokens, do_sample=False)
        thread = threading.Thread(target=model.generate, kwargs=settings)
        start = time.perf_counter()
        thread.start()
        first, text = None, ""
        for piece in streamer:
            if first is None and piece:
                first = time.perf_counter() - start
            text += piece
        thread.join()
        total = time.perf_counter() - start
        return {
            "first_piece_s": total if first_after_loop else first,
            "total_s": total,
            "text": text,
        }

    assert check("08.stream_timing", stream, model, tokenizer)
    assert not check(
        "08.stream_timing", lambda m, n: stream(m, n, first_after_loop=True), model, tokenizer
    )
    assert "first piece" in capsys.readouterr().out
