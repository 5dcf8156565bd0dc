"""Figures of the course: attention heatmaps, head grids, positional encodings, training
curves, confusion matrices.

Every function checks its input (a clear ``ValueError`` saying what was expected) and returns a
``matplotlib.figure.Figure`` built without pyplot's global state, so it works in notebooks,
scripts and tests alike. :func:`interactive_attention` adds an ipywidgets view (pick the layer
and head, hover a cell for its value) that needs no internet and falls back to a static figure.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "interactive_attention",
    "plot_attention",
    "plot_confusion_matrix",
    "plot_heads",
    "plot_positional_encoding",
    "plot_training_curves",
]

CMAP = "viridis"


def _png(fig: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _register_ipython_display() -> None:
    """Let IPython show the Figures returned here as images, even if pyplot was never used.

    (Matplotlib's inline backend registers this only once pyplot has drawn something.)
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:
        formatter.for_type(Figure, _png)


_register_ipython_display()


def _to_numpy(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().float().cpu().numpy()
    try:
        array = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a tensor or array of numbers, got {type(x).__name__}."
        ) from error
    if array.size and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; expected finite numbers.")
    return array


def _check_tokens(tokens: Any, expected: int, name: str, axis: str) -> list[str]:
    if tokens is None:
        return [str(i) for i in range(expected)]
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise ValueError(
            f"{name} must be a list of strings (one per {axis}), got {type(tokens).__name__}."
        )
    if len(tokens) != expected:
        raise ValueError(
            f"{name} has {len(tokens)} tokens but the weights have {expected} {axis}s."
        )
    return [str(t) for t in tokens]


def _font_size(count: int) -> float:
    """A tick-label size that keeps ``count`` labels apart (11 pt up to 16 tokens, 9 pt for 20, 5 pt from 36)."""
    return float(max(5.0, min(11.0, 180.0 / max(count, 1))))


def _label_axes(ax: Axes, x_tokens: list[str] | None, y_tokens: list[str] | None) -> None:
    if x_tokens is not None:
        ax.set_xticks(range(len(x_tokens)))
        ax.set_xticklabels(x_tokens, rotation=90, fontsize=_font_size(len(x_tokens)))
    else:
        ax.set_xticks([])
    if y_tokens is not None:
        ax.set_yticks(range(len(y_tokens)))
        ax.set_yticklabels(y_tokens, fontsize=_font_size(len(y_tokens)))
    else:
        ax.set_yticks([])


def plot_attention(
    weights: Any,
    query_tokens: Sequence[str] | None,
    key_tokens: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    vmax: float | None = None,
) -> Figure:
    """One attention heatmap: rows are queries, columns are keys, with a colour bar.

    ``weights``: (Lq, Lk) tensor or array. ``query_tokens`` label the rows (``key_tokens``
    the columns; default: the query tokens). Values are written in the cells when
    ``annotate`` is True (default: when both lengths are at most 12).
    """
    array = _to_numpy(weights, "weights")
    if array.ndim != 2:
        raise ValueError(
            f"weights must be 2-D (Lq, Lk), got shape {array.shape}; pick one layer and head, "
            "e.g. attentions[layer][0, head]."
        )
    lq, lk = array.shape
    if key_tokens is None and query_tokens is not None and lq != lk:
        raise ValueError(f"weights are {lq} x {lk} (not square): give key_tokens too.")
    y_tokens = _check_tokens(query_tokens, lq, "query_tokens", "row")
    x_tokens = _check_tokens(
        key_tokens if key_tokens is not None else query_tokens, lk, "key_tokens", "column"
    )
    if ax is None:
        size = max(3.5, min(10.0, 0.35 * max(lq, lk) + 2.0))
        fig = Figure(figsize=(size + 1.0, size), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    image = ax.imshow(
        array, cmap=CMAP, vmin=0.0, vmax=vmax if vmax is not None else max(float(array.max()), 1e-9)
    )
    _label_axes(ax, x_tokens, y_tokens)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    if title:
        ax.set_title(title)
    if annotate is None:
        annotate = max(lq, lk) <= 12
    if annotate:
        threshold = 0.6 * float(image.norm.vmax)
        for i in range(lq):
            for j in range(lk):
                ax.text(
                    j,
                    i,
                    f"{array[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=_font_size(max(lq, lk)) - 1,
                    color="black" if array[i, j] > threshold else "white",
                )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    return fig


def _layers_heads(weights: Any, batch_index: int = 0) -> np.ndarray:
    """(layers, heads, L, L) from a 3-D/4-D tensor or a per-layer sequence (e.g. ``outputs.attentions``)."""
    if isinstance(weights, (list, tuple)):
        if not weights:
            raise ValueError(
                "weights is an empty sequence; expected one attention tensor per layer."
            )
        layers = []
        for i, layer in enumerate(weights):
            array = _to_numpy(layer, f"weights[{i}]")
            if array.ndim == 4:  # (batch, heads, L, L)
                if not 0 <= batch_index < array.shape[0]:
                    raise ValueError(
                        f"batch_index {batch_index} is out of range for batch size {array.shape[0]}."
                    )
                array = array[batch_index]
            if array.ndim != 3:
                raise ValueError(
                    f"weights[{i}] must be (batch, heads, L, L) or (heads, L, L), got shape {array.shape}."
                )
            layers.append(array)
        if len({a.shape for a in layers}) != 1:
            raise ValueError(
                f"all layers must have the same shape, got {[a.shape for a in layers]}."
            )
        return np.stack(layers)
    array = _to_numpy(weights, "weights")
    if array.ndim == 3:
        return array[None]
    if array.ndim == 4:
        return array
    raise ValueError(
        f"weights must be (heads, L, L), (layers, heads, L, L) or a list of per-layer "
        f"(batch, heads, L, L) tensors; got shape {array.shape}."
    )


def plot_heads(
    weights: Any,
    tokens: Sequence[str] | None,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    batch_index: int = 0,
    panel_size: float = 2.4,
    title: str | None = None,
    panel_titles: Sequence[str] | None = None,
) -> Figure:
    """A grid of attention heatmaps: one row per layer, one column per head, one shared colour bar.

    ``weights``: (heads, L, L), (layers, heads, L, L), or a list of per-layer
    (batch, heads, L, L) tensors such as a Hugging Face model's ``outputs.attentions``
    (``batch_index`` picks the sentence). ``layers`` / ``heads`` select a subset. Token labels
    are drawn on the left column and the bottom row; ``title`` goes above the grid.
    ``panel_titles`` (one per panel, row by row) replace the "layer i · head j" titles, for
    example when the panels are heads picked from different layers.
    """
    array = _layers_heads(weights, batch_index)
    n_layers, n_heads, lq, lk = array.shape
    if lq != lk:
        raise ValueError(f"plot_heads draws self-attention (L x L); got {lq} x {lk}.")
    labels = _check_tokens(tokens, lq, "tokens", "position") if tokens is not None else None
    layer_ids = list(layers) if layers is not None else list(range(n_layers))
    head_ids = list(heads) if heads is not None else list(range(n_heads))
    for name, ids, limit in (("layers", layer_ids, n_layers), ("heads", head_ids, n_heads)):
        if not ids or any(not 0 <= i < limit for i in ids):
            raise ValueError(
                f"{name} must be a non-empty list of indices in [0, {limit}), got {ids}."
            )
    rows, cols = len(layer_ids), len(head_ids)
    if panel_titles is not None and len(panel_titles) != rows * cols:
        raise ValueError(
            f"panel_titles must hold one title per panel ({rows * cols}), got {len(panel_titles)}."
        )
    fig = Figure(figsize=(panel_size * cols + 1.2, panel_size * rows + 0.6), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    vmax = float(array[np.ix_(layer_ids, head_ids)].max()) or 1.0
    image = None
    small = max(4.0, _font_size(lq) - 3)
    for r, layer in enumerate(layer_ids):
        for c, head in enumerate(head_ids):
            ax = grid[r, c]
            image = ax.imshow(array[layer, head], cmap=CMAP, vmin=0.0, vmax=vmax)
            _label_axes(ax, labels if r == rows - 1 else None, labels if c == 0 else None)
            for tick in ax.get_xticklabels() + ax.get_yticklabels():
                tick.set_fontsize(small)
            if panel_titles is not None:
                panel_title = panel_titles[r * cols + c]
            elif n_layers > 1 or layers is not None:
                panel_title = f"layer {layer} · head {head}"
            else:
                panel_title = f"head {head}"
            ax.set_title(panel_title, fontsize=9)
    fig.colorbar(image, ax=grid, shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title)
    return fig


def plot_positional_encoding(pe: Any, dims: Sequence[int] | None = None) -> Figure:
    """Heatmap of a (length, d_model) positional-encoding table, and a few of its columns as curves."""
    array = _to_numpy(pe, "pe")
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"pe must be a non-empty 2-D (length, d_model) table, got shape {array.shape}."
        )
    length, d_model = array.shape
    dims = (
        list(dims)
        if dims is not None
        else sorted({0, 1, min(4, d_model - 1), min(8, d_model - 1), d_model - 1})
    )
    if any(not 0 <= d < d_model for d in dims):
        raise ValueError(f"dims must be indices in [0, {d_model}), got {dims}.")
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.2, 1])
    image = left.imshow(
        array, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest"
    )
    left.set_xlabel("dimension i")
    left.set_ylabel("position p")
    left.set_title(f"positional encoding ({length} positions x {d_model} dims)")
    fig.colorbar(image, ax=left, label="PE value")
    for d in dims:
        right.plot(np.arange(length), array[:, d], label=f"dim {d}")
    right.set_xlabel("position p")
    right.set_ylabel("value")
    right.set_title("a few dimensions: lower dims oscillate faster")
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves
    return fig


def plot_training_curves(
    history: Mapping[str, Sequence[float]], title: str | None = None
) -> Figure:
    """Loss (left) and accuracy (right, when present) against the training step.

    ``history``: a dict of lists, as returned by ``tutorial_utils.classifier.train_classifier``:
    keys ending in ``loss`` or ``accuracy`` are drawn; a key ``<prefix>_loss`` uses
    ``<prefix>_step`` (or ``step``) as x when its length matches, else 1, 2, 3, ...
    """
    if not isinstance(history, Mapping) or not history:
        raise ValueError(
            "history must be a non-empty dict of lists, e.g. {'step': [...], 'train_loss': [...]}."
        )
    curves = {k: v for k, v in history.items() if k.endswith("loss") or k.endswith("accuracy")}
    curves = {k: v for k, v in curves.items() if len(v)}
    if not curves:
        raise ValueError(
            f"history has no non-empty '...loss' or '...accuracy' list; keys found: {sorted(history)}."
        )
    values = {k: _to_numpy(v, f"history[{k!r}]") for k, v in curves.items()}
    for key, array in values.items():
        if array.ndim != 1:
            raise ValueError(
                f"history[{key!r}] must be a flat list of numbers, got shape {array.shape}."
            )

    def x_for(key: str) -> tuple[np.ndarray, str]:
        prefix = key.rsplit("_", 1)[0] if "_" in key else ""
        for candidate in (f"{prefix}_step", "step"):
            if candidate in history and len(history[candidate]) == len(values[key]):
                return _to_numpy(history[candidate], f"history[{candidate!r}]"), "step"
        return np.arange(1, len(values[key]) + 1), "log entry"

    losses = [k for k in values if k.endswith("loss")]
    accuracies = [k for k in values if k.endswith("accuracy")]
    panels = [p for p in (losses, accuracies) if p]
    fig = Figure(figsize=(5.5 * len(panels), 4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, keys, ylabel in zip(
        axes, panels, ["loss" if losses else "accuracy", "accuracy"], strict=False
    ):
        xlabel = "step"
        for key in keys:
            x, xlabel = x_for(key)
            ax.plot(
                x, values[key], marker="o" if len(x) <= 20 else None, label=key.replace("_", " ")
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion_matrix(
    cm: Any, labels: Sequence[str], title: str | None = None, normalize: bool = False
) -> Figure:
    """A confusion matrix drawn by scikit-learn's ``ConfusionMatrixDisplay``.

    ``cm`` is a square ``(k, k)`` array of counts, rows the true class and columns the
    predicted one (:func:`tutorial_utils.metrics.confusion` or
    ``sklearn.metrics.confusion_matrix``), and ``labels`` the ``k`` class names.
    ``normalize=True`` shows each row as shares of its true class instead of counts.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    matrix = _to_numpy(cm, "cm")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix must be square (k, k), got shape {matrix.shape}")
    if matrix.shape[0] == 0:
        raise ValueError("the confusion matrix is empty")
    if (matrix < 0).any():
        raise ValueError("a confusion matrix holds counts: negative entries are not allowed")
    names = [str(name) for name in labels]
    if len(names) != matrix.shape[0]:
        raise ValueError(
            f"{len(names)} label names for a {matrix.shape[0]}x{matrix.shape[1]} confusion matrix"
        )
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    k = len(names)
    fig = Figure(figsize=(1.6 + 1.1 * k, 1.2 + 1.0 * k), layout="constrained")
    ax = fig.add_subplot()
    ConfusionMatrixDisplay(matrix, display_labels=names).plot(
        ax=ax,
        cmap="Blues",
        values_format=".0%" if normalize else "g",
        xticks_rotation=30 if max(map(len, names)) > 6 else "horizontal",
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return fig


def _html_heatmap(array: np.ndarray, tokens: list[str], caption: str) -> str:
    """A self-contained HTML table (no scripts): colour = weight, hover a cell for its value."""
    vmax = float(array.max()) or 1.0
    size = max(9, min(13, int(260 / max(len(tokens), 1))))
    show = len(tokens) <= 12
    head = "".join(
        f'<th style="writing-mode:vertical-rl;transform:rotate(180deg);padding:2px">{html.escape(t)}</th>'
        for t in tokens
    )
    rows = []
    for i, query in enumerate(tokens):
        cells = []
        for j, key in enumerate(tokens):
            w = float(array[i, j])
            shade = w / vmax
            colour = "white" if shade > 0.55 else "black"
            tip = html.escape(f"{query} -> {key}: {w:.3f}")
            text = f"{w:.2f}" if show else ""
            cells.append(
                f'<td title="{tip}" style="background:rgba(31,119,180,{shade:.3f});color:{colour};'
                f'min-width:{size * 2}px;height:{size * 1.6:.0f}px;text-align:center">{text}</td>'
            )
        rows.append(
            f'<tr><th style="text-align:right;padding-right:4px">{html.escape(query)}</th>{"".join(cells)}</tr>'
        )
    return (
        f'<div style="font-size:{size}px;font-family:sans-serif"><div><b>{html.escape(caption)}</b> '
        f"(rows: queries, columns: keys; hover a cell for its value; darker = larger, max {vmax:.3f})</div>"
        f'<table style="border-collapse:collapse"><tr><th></th>{head}</tr>{"".join(rows)}</table></div>'
    )


def interactive_attention(attentions: Any, tokens: Sequence[str], batch_index: int = 0) -> Any:
    """Pick a layer and a head with widgets and see its attention; hover a cell for its value.

    ``attentions``: a model's ``outputs.attentions`` (per-layer (batch, heads, L, L)) or a
    (layers, heads, L, L) / (heads, L, L) array. Uses only ipywidgets (no script from a CDN).
    The head menu also offers the mean over heads. Without ipywidgets (or outside a widget
    front-end) it returns the static :func:`plot_heads` figure instead.
    """
    array = _layers_heads(attentions, batch_index)
    n_layers, n_heads, lq, lk = array.shape
    if lq != lk:
        raise ValueError(f"interactive_attention draws self-attention (L x L); got {lq} x {lk}.")
    labels = _check_tokens(tokens, lq, "tokens", "position")
    try:
        import ipywidgets as widgets
    except ImportError:
        return plot_heads(array, labels, layers=[n_layers - 1])

    layer = widgets.Dropdown(
        options=[(f"layer {i}", i) for i in range(n_layers)],
        value=n_layers - 1,
        description="layer",
    )
    head = widgets.Dropdown(
        options=[("mean of heads", -1)] + [(f"head {h}", h) for h in range(n_heads)],
        value=-1,
        description="head",
    )
    query = widgets.Dropdown(
        options=[(f"{i}: {t}", i) for i, t in enumerate(labels)], value=0, description="query"
    )
    view = widgets.HTML()
    detail = widgets.HTML()

    def selected() -> np.ndarray:
        return array[layer.value].mean(0) if head.value < 0 else array[layer.value, head.value]

    def update(_: Any = None) -> None:
        weights = selected()
        name = "mean of heads" if head.value < 0 else f"head {head.value}"
        view.value = _html_heatmap(weights, labels, f"layer {layer.value}, {name}")
        row = weights[query.value]
        top = np.argsort(-row)[: min(5, len(row))]
        items = ", ".join(f"{html.escape(labels[j])} <b>{row[j]:.3f}</b>" for j in top)
        detail.value = f"<div style='font-family:sans-serif'>{html.escape(labels[query.value])} attends most to: {items}</div>"

    for control in (layer, head, query):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([layer, head, query]), detail, view])
