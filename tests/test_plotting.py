"""tutorial_utils.plotting: input validation, axes, labels, and the interactive view."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from tutorial_utils import plotting
from tutorial_utils.attention import sinusoidal_positional_encoding


def _weights(*shape, seed=0):
    return torch.softmax(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


@pytest.mark.parametrize(("lq", "lk"), [(1, 1), (3, 3), (5, 8), (20, 20)])
def test_plot_attention_axes_and_labels(lq, lk):
    queries = [f"q{i}" for i in range(lq)]
    keys = [f"k{j}" for j in range(lk)]
    fig = plotting.plot_attention(_weights(lq, lk), queries, keys, title="t")
    assert isinstance(fig, Figure)
    heatmap, colorbar = fig.axes  # the heatmap and its colour bar
    assert [t.get_text() for t in heatmap.get_xticklabels()] == keys
    assert [t.get_text() for t in heatmap.get_yticklabels()] == queries
    assert all(t.get_rotation() == 90 for t in heatmap.get_xticklabels())
    assert colorbar.get_ylabel() == "attention weight"
    assert len(heatmap.texts) == (lq * lk if max(lq, lk) <= 12 else 0)


def test_plot_attention_font_shrinks_with_token_count():
    few = (
        plotting.plot_attention(_weights(3, 3), list("abc"))
        .axes[0]
        .get_xticklabels()[0]
        .get_fontsize()
    )
    many = plotting.plot_attention(_weights(20, 20), [str(i) for i in range(20)]).axes[0]
    assert many.get_xticklabels()[0].get_fontsize() < few


def test_plot_attention_on_given_axes_and_numpy():
    fig = Figure()
    ax = fig.add_subplot()
    assert plotting.plot_attention(np.eye(3), ["a", "b", "c"], ax=ax) is fig


@pytest.mark.parametrize(
    ("weights", "queries", "keys", "message"),
    [
        (_weights(2, 3, 3), list("abc"), None, "2-D"),
        (_weights(3, 3), list("ab"), None, "2 tokens but the weights have 3 rows"),
        (_weights(3, 4), list("abc"), list("abc"), "3 tokens but the weights have 4 columns"),
        (_weights(3, 4), list("abc"), None, "not square"),
        (torch.full((2, 2), float("nan")), list("ab"), None, "NaN"),
        (_weights(2, 2), "ab", None, "list of strings"),
        ("weights", list("ab"), None, "tensor or array"),
    ],
)
def test_plot_attention_bad_input(weights, queries, keys, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_attention(weights, queries, keys)


@pytest.mark.parametrize(("shape", "panels"), [((4, 6, 6), 4), ((2, 3, 6, 6), 6)])
def test_plot_heads_grid(shape, panels):
    tokens = [f"t{i}" for i in range(6)]
    fig = plotting.plot_heads(_weights(*shape), tokens)
    assert len(fig.axes) == panels + 1  # one panel per (layer, head) and a shared colour bar
    titles = [ax.get_title() for ax in fig.axes[:panels]]
    assert len(set(titles)) == panels


def test_plot_heads_accepts_model_attentions_and_subsets():
    attentions = tuple(_weights(2, 3, 5, 5, seed=i) for i in range(4))  # 4 layers, batch 2, 3 heads
    fig = plotting.plot_heads(attentions, list("abcde"), layers=[0, 3], heads=[1], batch_index=1)
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title() == "layer 0 · head 1"
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == list("abcde")  # bottom row carries the token labels


@pytest.mark.parametrize(
    ("weights", "kwargs", "message"),
    [
        (_weights(5, 5), {}, r"\(heads, L, L\)"),
        (_weights(2, 4, 5), {}, "L x L"),
        (_weights(2, 5, 5), {"heads": [2]}, "heads must be"),
        ([], {}, "empty"),
        ((_weights(1, 2, 5, 5), _weights(1, 3, 5, 5)), {}, "same shape"),
        ((_weights(1, 2, 5, 5),), {"batch_index": 3}, "batch_index"),
    ],
)
def test_plot_heads_bad_input(weights, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_heads(weights, list("abcde"), **kwargs)


def test_plot_heads_token_count_mismatch():
    with pytest.raises(ValueError, match="4 tokens but the weights have 5"):
        plotting.plot_heads(_weights(2, 5, 5), list("abcd"))


def test_plot_positional_encoding():
    fig = plotting.plot_positional_encoding(sinusoidal_positional_encoding(50, 16))
    heatmap, curves, colorbar = fig.axes
    assert heatmap.get_xlabel() == "dimension i" and curves.get_xlabel() == "position p"
    assert len(curves.get_lines()) == 5
    with pytest.raises(ValueError, match=r"\(length, d_model\)"):
        plotting.plot_positional_encoding(torch.zeros(3))
    with pytest.raises(ValueError, match="dims"):
        plotting.plot_positional_encoding(torch.zeros(4, 4), dims=[7])


def test_plot_training_curves():
    history = {
        "step": [50, 100, 150],
        "train_loss": [0.7, 0.6, 0.5],
        "eval_step": [75, 150],
        "eval_loss": [0.65, 0.6],
        "eval_accuracy": [0.6, 0.7],
        "epoch": [1, 2],
    }
    fig = plotting.plot_training_curves(history, title="run")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.get_lines()) == 2 and len(acc_ax.get_lines()) == 1
    assert list(loss_ax.get_lines()[1].get_xdata()) == [75, 150]
    assert acc_ax.get_ylabel() == "accuracy"
    only_loss = plotting.plot_training_curves({"train_loss": [1.0, 0.5]})
    assert len(only_loss.axes) == 1


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ({}, "non-empty dict"),
        ([1, 2], "non-empty dict"),
        ({"step": [1, 2]}, "no non-empty"),
        ({"train_loss": [0.5, float("nan")]}, "NaN"),
        ({"train_loss": [[0.5], [0.4]]}, "flat list"),
    ],
)
def test_plot_training_curves_bad_input(history, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_training_curves(history)


def test_interactive_attention_widgets():
    widgets = pytest.importorskip("ipywidgets")
    attentions = tuple(_weights(1, 2, 4, 4, seed=i) for i in range(3))
    view = plotting.interactive_attention(attentions, ["[CLS]", "a", "<b>", "[SEP]"])
    assert isinstance(view, widgets.VBox)
    controls, detail, heatmap = view.children
    layer, head, query = controls.children
    assert layer.value == 2 and head.value == -1
    assert "&lt;b&gt;" in heatmap.value and "<script" not in heatmap.value
    expected = f"{float(attentions[2][0].mean(0)[0, 0]):.3f}"
    assert expected in heatmap.value  # hover text holds the values
    head.value = 1
    assert f"{float(attentions[2][0, 1, 0, 0]):.3f}" in heatmap.value
    query.value = 3
    assert detail.value.startswith("<div") and "[SEP] attends most to" in detail.value


def test_interactive_attention_falls_back_without_ipywidgets(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    fig = plotting.interactive_attention(_weights(2, 3, 4, 4), list("abcd"))
    assert isinstance(fig, Figure)
    with pytest.raises(ValueError, match="tokens"):
        plotting.interactive_attention(_weights(2, 3, 4, 4), list("abc"))


def test_plot_heads_panel_titles():
    fig = plotting.plot_heads(_weights(2, 5, 5), list("abcde"), panel_titles=["x", "y"])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["x", "y"]
    with pytest.raises(ValueError, match="one title per panel"):
        plotting.plot_heads(_weights(2, 5, 5), list("abcde"), panel_titles=["x"])


def test_plot_heads_title():
    fig = plotting.plot_heads(_weights(2, 5, 5), list("abcde"), title="a sentence")
    assert fig._suptitle is not None and fig._suptitle.get_text() == "a sentence"
    assert plotting.plot_heads(_weights(2, 5, 5), list("abcde"))._suptitle is None


def test_plot_confusion_matrix_returns_figure():
    fig = plotting.plot_confusion_matrix(np.array([[5, 2], [1, 7]]), ["neg", "pos"], title="t")
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["5", "2", "1", "7"]
    assert fig.axes[0].get_xlabel() == "predicted" and fig.axes[0].get_title() == "t"
    fig = plotting.plot_confusion_matrix(np.array([[3, 1], [0, 0]]), ["a", "b"], normalize=True)
    assert [t.get_text() for t in fig.axes[0].texts] == ["75%", "25%", "0%", "0%"]


@pytest.mark.parametrize(
    ("cm", "labels", "message"),
    [
        (np.zeros((2, 3)), ["a", "b"], "square"),
        (np.zeros(4), ["a", "b"], "square"),
        (np.zeros((2, 2, 2)), ["a", "b"], "square"),
        (np.zeros((0, 0)), [], "empty"),
        (np.array([[1, -1], [0, 2]]), ["a", "b"], "negative"),
        (np.array([[1, 0], [0, 2]]), ["a", "b", "c"], "3 label names"),
        (np.array([[1, 0], [0, 2]]), ["a"], "1 label names"),
        (np.array([["x", "y"], ["z", "w"]]), ["a", "b"], "numbers"),
    ],
)
def test_plot_confusion_matrix_rejects_bad_input(cm, labels, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_confusion_matrix(cm, labels)
