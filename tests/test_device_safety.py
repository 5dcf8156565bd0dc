"""Device safety on a CPU-only machine: would each notebook run unchanged on a CUDA GPU?

On a CPU everything is on the CPU, so running the notebooks here proves nothing. This file
checks it in three ways.

1. The static scan of :mod:`tools.device_scan` (what it follows and what it cannot see is
   described there), on snippets it must flag or accept, and on every code cell of every
   lesson and solution notebook (:func:`tools.series.lesson_notebooks`), which must give no
   finding. ``python -m tools.device_scan [NOTEBOOK ...]`` prints the findings.

2. Helpers run with a stand-in for a GPU tensor: a tensor subclass that, like a CUDA tensor,
   refuses NumPy until ``.cpu()`` is called. Every plotting and metrics helper that accepts
   tensors is given one.

3. The package's own training and evaluation code (``tutorial_utils.classifier``, the offline
   builders of ``tutorial_utils.offline_models``, with tiny models) runs on a fake GPU: a
   ``TorchFunctionMode`` under which ``.to("cuda")`` marks tensors instead of moving them, and
   mixing marked and unmarked tensors fails as on CUDA. It checks that the model and every
   batch go to ``tu.device()`` and results come back; it cannot check CUDA kernels, memory,
   speed or mixed precision (``torch.cuda.is_available()`` stays False here, so autocast is
   off; tests/test_precision.py checks which dtype would be chosen).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.device_scan import Finding, scan_notebook, scan_source  # noqa: E402
from tools.series import lesson_notebooks  # noqa: E402

# --- part 1: the static scan -------------------------------------------------------------------


def _snippet(*sources: str) -> list[Finding]:
    return scan_source([(i, f"s{i}", source) for i, source in enumerate(sources)])


SETUP = 'import torch\nimport numpy as np\nimport tutorial_utils as tu\ntokenizer = AutoTokenizer.from_pretrained(tu.checkpoint("encoder"))\n'


def test_scan_catches_the_lesson_01_failure():
    """The lesson 01 cell that failed on an H100 (inputs left on the CPU), as it was and fixed."""
    broken = """
model = AutoModel.from_pretrained(tu.checkpoint("encoder"), output_attentions=True).to(tu.device())
encoded = tokenizer(SENTENCE, return_tensors="pt")
sentence_tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
with torch.no_grad():
    embeddings = model.get_input_embeddings()(encoded["input_ids"])  # (1, L, hidden)
"""
    findings = _snippet(SETUP, broken, "with torch.no_grad():\n    outputs = model(**encoded)\n")
    assert [(f.cell, f.line) for f in findings] == [(1, 6), (2, 2)], "\n".join(map(str, findings))
    assert "encoded" in findings[0].message and ".to(model.device)" in findings[0].message
    fixed = broken.replace('return_tensors="pt")', 'return_tensors="pt").to(model.device)')
    assert _snippet(SETUP, fixed, "outputs = model(**encoded)\n") == []


@pytest.mark.parametrize(
    "code",
    [
        # a device model fed CPU tensors
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer(["a"], return_tensors="pt")\nm(**b)',
        'm = AutoModel.from_pretrained(tu.checkpoint("chat")).to(tu.device())\nb = tokenizer.apply_chat_template(x, return_tensors="pt", return_dict=True)\nm.generate(**b)',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nids = torch.tensor([[101, 102]])\nm(input_ids=ids)',
        'p = pipeline("text-classification", model=tu.checkpoint("sentiment"), device=tu.device())\nb = p.tokenizer("a", return_tensors="pt")\np.model(**b)',
        # a model that training moved to the GPU
        "m = tu.classifier.TransformerClassifier(**c)\ntu.classifier.train_classifier(m, d, None, tok)\n"
        'e = tokenizer("a", return_tensors="pt")\nm(e["input_ids"])',
        # inside a function, and through a model-named parameter
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\ndef f(s):\n    e = tokenizer(s, return_tensors="pt")\n    return m(**e)',
        'def classify(texts, tokenizer, model):\n    b = tokenizer(texts, return_tensors="pt")\n    return model(**b)',
        # results to NumPy / matplotlib without .cpu()
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\nh = m(**b).last_hidden_state\nh.numpy()',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\np = m(**b).logits.softmax(-1)\nnp.asarray(p)',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\nw = m(**b).attentions[0][0, 0]\nax.imshow(w)',
        # mixing devices in torch calls and comparisons
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\ny = torch.tensor([1])\n(m(**b).logits.argmax(-1) == y).sum()',
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\nref = torch.zeros(1, 2)\ntorch.allclose(m(**b).logits, ref)',
        # Tensor.to is not in place
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nids = torch.tensor([[1, 2]])\nids.to(m.device)\nm(ids)',
        # one of two moved, element by element
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt")\nids, mask = b["input_ids"].to(m.device), b["attention_mask"]\nm(input_ids=ids, attention_mask=mask)',
        # a model moved inside a function is moved for the caller too
        "def fit(model):\n    model.to(tu.device()).train()\nnet = nn.Linear(4, 2)\nfit(net)\nnet(torch.randn(1, 4))",
        # a device tensor into a model on the CPU
        "net = nn.Linear(4, 2)\nx = torch.randn(1, 4, device=tu.device())\nnet(x)",
        # a pretrained model never moved: runs on the CPU on a GPU machine
        'fresh = AutoModelForSequenceClassification.from_pretrained(path)\nfresh(**tokenizer("a", return_tensors="pt"))',
        # Trainer in float32 on a GPU
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nargs = TrainingArguments(output_dir="o")\nTrainer(model=m, args=args)',
        # a pipeline that ignores TUTORIAL_DEVICE
        'p = pipeline("text-classification", model=tu.checkpoint("sentiment"))',
        # the model train_from_scratch returns is on the device
        'r = tu.classifier.train_from_scratch(reviews, tokenizer)\nm = r["model"]\nm(tokenizer("a", return_tensors="pt")["input_ids"])',
        # a torch function under another name
        'cos = torch.nn.functional.cosine_similarity\nm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\ncos(m(**b).last_hidden_state[:, 0], torch.randn(1, 384))',
        # a model of unknown origin passed to a function: taken to be on the device
        'def score(model):\n    return model(**tokenizer("a", return_tensors="pt"))\nscore(trainer.model)',
    ],
)
def test_scan_flags(code):
    assert _snippet(SETUP, code), f"not flagged:\n{code}"


@pytest.mark.parametrize(
    "code",
    [
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer(["a"], return_tensors="pt").to(m.device)\nm(**b)',
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer(["a"], return_tensors="pt")\nm(**b.to(m.device))',
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer(["a"], return_tensors="pt")\nb.to(m.device)\nm(**b)',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nids = torch.tensor([[1, 2]], device=m.device)\nm(ids)',
        # a model kept on the CPU on purpose, with its inputs; small nn modules of a demo
        'cpu = AutoModel.from_pretrained(path).to("cpu")\ncpu(**tokenizer("a", return_tensors="pt"))',
        'fresh, info = AutoModel.from_pretrained(p, output_loading_info=True)\nfresh = fresh.to(tu.device())\nfresh(**tokenizer("a", return_tensors="pt").to(fresh.device))',
        "mha = nn.MultiheadAttention(4, 1)\nx = torch.randn(1, 3, 4)\nmha(x, x, x)",
        # results brought back before NumPy, or given to helpers that do it
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\nh = m(**b).last_hidden_state\nh.cpu().numpy()',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder"), output_attentions=True).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\no = m(**b)\ntu.plotting.plot_heads(o.attentions, t)',
        'm = AutoModel.from_pretrained(tu.checkpoint("encoder")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\nmask = b["attention_mask"].unsqueeze(-1).to(torch.float32)\nh = m(**b).last_hidden_state * mask',
        # pipelines handle devices and return CPU results
        'p = pipeline("text-classification", model=tu.checkpoint("embedder"), device=tu.device())\nv = p("a", return_tensors=True)[0].mean(0)\nv.numpy()',
        # printing, int(), float(), .item() and .tolist() work on a GPU tensor
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nb = tokenizer("a", return_tensors="pt").to(m.device)\np = m(**b).logits.softmax(-1)\nprint(p, float(p.max()), int(p.argmax()), p.tolist())',
        # CPU work before a model exists
        "x = torch.randn(2, 3)\nnp.asarray(x)\nplt.plot(x.numpy())",
        # Trainer with the documented mixed-precision switches
        'm = AutoModel.from_pretrained(tu.checkpoint("sentiment")).to(tu.device())\nargs = TrainingArguments(output_dir="o", **tu.mixed_precision_args())\nTrainer(model=m, args=args)',
        # a notebook function called with a CPU module and CPU tensors
        "def moves(model):\n    return model(src)\nsrc = torch.randn(2, 4)\nmoves(nn.Linear(4, 2))",
    ],
)
def test_scan_accepts(code):
    findings = _snippet(SETUP, code)
    assert not findings, "\n".join(map(str, findings))


NOTEBOOKS = lesson_notebooks(include_solutions=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name + "/" + p.name)
def test_notebook_is_device_safe(path):
    """Every tensor that meets a model is on its device; results come back with .cpu()."""
    findings = scan_notebook(path)
    assert not findings, f"{len(findings)} place(s) would fail on a CUDA GPU:\n" + "\n".join(
        map(str, findings)
    )


# --- part 2: helpers given a stand-in for a GPU tensor ----------------------------------------


def _gpu_like(tensor):
    """A tensor that, like a CUDA tensor, refuses NumPy until ``.cpu()`` is called."""
    import torch

    class GPULike(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = getattr(func, "__name__", "")
            if name in {"numpy", "__array__"}:
                raise TypeError(
                    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy "
                    "the tensor to host memory first."
                )
            result = super().__torch_function__(func, types, args, kwargs)
            if name == "cpu" or (name == "to" and "cpu" in map(str, (*args[1:], *kwargs.values()))):
                return result.as_subclass(torch.Tensor)
            return result

    return tensor.as_subclass(GPULike)


def test_gpu_like_tensor_refuses_numpy_like_cuda():
    import numpy as np
    import torch

    x = _gpu_like(torch.rand(2, 3))
    with pytest.raises(TypeError, match="cpu"):
        x.numpy()
    with pytest.raises(TypeError, match="cpu"):
        np.asarray(x.detach().float())
    assert isinstance(np.asarray(x.cpu()), np.ndarray)


def test_plotting_helpers_bring_device_tensors_back():
    import torch

    import tutorial_utils as tu

    torch.manual_seed(0)
    weights = _gpu_like(torch.softmax(torch.randn(2, 4, 5, 5), -1))  # (layers, heads, L, L)
    tokens = [f"t{i}" for i in range(5)]
    assert tu.plotting.plot_attention(weights[0, 0], tokens) is not None
    assert tu.plotting.plot_heads(weights, tokens) is not None
    assert tu.plotting.plot_heads([weights[0][None], weights[1][None]], tokens) is not None
    assert tu.plotting.interactive_attention([weights[0][None]], tokens) is not None
    pe = _gpu_like(tu.attention.sinusoidal_positional_encoding(16, 8))
    assert tu.plotting.plot_positional_encoding(pe) is not None
    history = {"step": [1, 2], "train_loss": [_gpu_like(torch.tensor(0.7)).item(), 0.5]}
    assert tu.plotting.plot_training_curves(history) is not None


def test_metrics_helpers_bring_device_tensors_back():
    import torch

    import tutorial_utils as tu

    logits = _gpu_like(torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]))
    labels = _gpu_like(torch.tensor([1, 0, 0]))
    assert tu.metrics.accuracy(logits, labels) == pytest.approx(2 / 3)
    assert tu.metrics.f1(logits, labels) == pytest.approx(2 / 3)
    assert set(tu.metrics.compute_metrics((logits, labels))) == {"accuracy", "f1"}
    cm = tu.metrics.confusion(labels, logits, num_labels=2)
    assert cm.tolist() == [[1, 1], [0, 1]]
    assert tu.plotting.plot_confusion_matrix(_gpu_like(torch.tensor(cm)), ["neg", "pos"])
    assert tu.metrics.majority_baseline(labels, labels)["label"] == 0
    bf16 = _gpu_like(torch.tensor([[0.1, 0.9]], dtype=torch.bfloat16))
    assert tu.metrics.to_labels(bf16).tolist() == [1]


# --- part 3: the package's training and evaluation code on a fake GPU -------------------------


def _fake_gpu_mode():
    """A ``TorchFunctionMode`` in which ``.to("cuda")`` gives tensors that behave like CUDA ones.

    Tensors moved with ``.to("cuda")``/``.cuda()`` (or made with ``device="cuda"``) stay in CPU
    memory but carry a mark: their ``.device`` reads ``cuda:0``, results computed from them
    carry it too, ``.cpu()`` removes it, ``.numpy()`` refuses it, and an operation that mixes
    them with unmarked tensors of one or more dimensions fails as on CUDA ("Expected all
    tensors to be on the same device"). Indexing with a CPU index and ``copy_`` are allowed,
    as on CUDA. ``mode.calls`` counts the operations that ran "on the GPU", by name.
    """
    from collections import Counter

    import torch
    from torch.overrides import TorchFunctionMode

    mark = "_course_fake_gpu"

    def marked(t):
        return isinstance(t, torch.Tensor) and t.__dict__.get(mark, False)

    def put_mark(t):
        if isinstance(t, torch.Tensor):
            t.__dict__[mark] = True
        return t

    def tensors(x):
        if isinstance(x, torch.Tensor):
            yield x
        elif isinstance(x, list | tuple):
            for y in x:
                yield from tensors(y)
        elif isinstance(x, dict):
            for y in x.values():
                yield from tensors(y)

    def is_cuda(x):
        return (isinstance(x, str) and x.startswith("cuda")) or (
            isinstance(x, torch.device) and x.type == "cuda"
        )

    def is_cpu(x):
        return (isinstance(x, str) and x.split(":")[0] == "cpu") or (
            isinstance(x, torch.device) and x.type == "cpu"
        )

    class FakeGPU(TorchFunctionMode):
        is_marked = staticmethod(marked)
        mark = staticmethod(put_mark)

        def __init__(self):
            super().__init__()
            self.calls = Counter()

        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: C901
            kwargs = dict(kwargs or {})
            name = getattr(func, "__name__", "")
            if func == torch.Tensor.device.__get__:
                return torch.device("cuda", 0) if marked(args[0]) else torch.device("cpu")
            if func == torch.Tensor.is_cuda.__get__:
                return marked(args[0])
            if name in {"numpy", "__array__"} and marked(args[0]):
                raise TypeError("can't convert cuda:0 device type tensor to numpy (fake GPU)")
            if func == torch.Tensor.data.__set__:  # Module.to: param.data = moved
                result = func(*args, **kwargs)
                if marked(args[1]):
                    put_mark(args[0])
                else:
                    args[0].__dict__.pop(mark, None)
                return result
            if name in {"to", "cuda", "cpu"}:
                source, targets = args[0], [*args[1:], kwargs.get("device")]
                to_gpu = name == "cuda" or any(is_cuda(t) for t in targets)
                if to_gpu or name == "cpu" or any(is_cpu(t) for t in targets):
                    if "device" in kwargs:
                        kwargs["device"] = "cpu"
                    rest = ["cpu" if is_cuda(a) else a for a in args[1:]]
                    result = func(source, *rest, **kwargs) if name == "to" else source
                    if to_gpu:
                        if result is source and not marked(source):
                            result = source.detach().clone().requires_grad_(source.requires_grad)
                        return put_mark(result)
                    if marked(source):
                        result = result.detach().clone() if result is source else result
                        result.__dict__.pop(mark, None)
                    return result
            if is_cuda(kwargs.get("device")):  # torch.zeros(..., device="cuda")
                kwargs["device"] = "cpu"
                return put_mark(func(*args, **kwargs))
            found = [*tensors(args), *tensors(kwargs)]
            on_gpu = [t for t in found if marked(t)]
            if on_gpu:
                self.calls[name] += 1
                allowed = name in {"__getitem__", "__setitem__", "copy_", "__get__", "__set__"}
                if not allowed and not name.startswith("_has_"):
                    on_cpu = [tuple(t.shape) for t in found if not marked(t) and t.dim() > 0]
                    if on_cpu:
                        raise RuntimeError(
                            "Expected all tensors to be on the same device, but found at least "
                            f"two devices, cuda:0 and cpu! (fake GPU: {name}, CPU tensors of "
                            f"shapes {on_cpu})"
                        )
            result = func(*args, **kwargs)
            if on_gpu:
                for t in tensors(result):
                    put_mark(t)
            return result

    return FakeGPU


@pytest.fixture
def fake_gpu(monkeypatch):
    """The fake GPU as ``tu.device()`` of the package's training code (CUDA absent here)."""
    import torch

    from tutorial_utils import classifier
    from tutorial_utils.offline_models import building

    monkeypatch.setattr(classifier, "default_device", lambda: "cuda")
    monkeypatch.setattr(building, "default_device", lambda: "cuda")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *args, **kwargs: None)
    mode = _fake_gpu_mode()
    make_parameter = torch.nn.Parameter.__new__

    def parameter(cls, data=None, requires_grad=True):  # nn.Parameter(x) keeps x's device
        made = make_parameter(cls, data, requires_grad)
        return mode.mark(made) if mode.is_marked(data) else made

    monkeypatch.setattr(torch.nn.Parameter, "__new__", staticmethod(parameter))
    return mode


def test_fake_gpu_fails_where_cuda_fails(fake_gpu):
    """The lesson 01 mistake (CPU inputs, GPU model) fails on the fake GPU as it did on an H100."""
    import torch

    embedding = torch.nn.Embedding(10, 4)
    ids = torch.tensor([[1, 2, 3]])
    with fake_gpu():
        embedding.to("cuda")
        assert embedding.weight.device == torch.device("cuda", 0)
        with pytest.raises(RuntimeError, match="same device"):
            embedding(ids)
        vectors = embedding(ids.to(embedding.weight.device))
        assert vectors.device.type == "cuda"
        with pytest.raises(TypeError, match="numpy"):
            vectors.detach().numpy()
        assert vectors.detach().cpu().numpy().shape == (1, 3, 4)


def test_classifier_trains_evaluates_and_predicts_on_the_gpu(fake_gpu):
    import test_classifier as toy

    from tutorial_utils import classifier

    with fake_gpu() as gpu:
        model = toy._model(seed=1)  # built on the CPU, as in lesson 02
        classifier.train_classifier(
            model,
            toy._toy_dataset(64, 0),
            toy._toy_dataset(32, 1),
            toy.TOKENIZER,
            epochs=1,
            batch_size=16,
            verbose=False,
        )
        assert model.device.type == "cuda"  # moved to tu.device(), as Trainer does
        assert gpu.calls["cross_entropy"] >= 4 + 1  # 4 training steps and the evaluation
        assert 0 <= classifier.evaluate_accuracy(model, toy._toy_dataset(16, 2), toy.TOKENIZER) <= 1
        labels = classifier.predict(model, toy.TOKENIZER, ["great fun", "dull"])
        assert [type(p) for _, p in labels] == [float, float]
        reviews = {
            name: toy._toy_dataset(32, i) for i, name in enumerate(["train", "validation", "test"])
        }
        result = classifier.train_from_scratch(
            reviews, toy.TOKENIZER, verbose=False, epochs=1, d_model=16, max_length=16
        )
        assert result["device"] == "cuda" and result["model"].device.type == "cuda"


def _tiny_bert(kind: str):
    """A small random BERT with the offline MiniLM tokenizer's vocabulary."""
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

    from tutorial_utils import offline_models

    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        id2label=offline_models.ID2LABEL,
        label2id={v: k for k, v in offline_models.ID2LABEL.items()},
    )
    return (BertForMaskedLM if kind == "fill-mask" else BertForSequenceClassification)(config)


def test_builder_evaluations_run_on_the_gpu(fake_gpu):
    from transformers import AutoTokenizer

    from tutorial_utils import offline_models
    from tutorial_utils.offline_models import minilm_dir

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir()))
    masked_lm, classifier = _tiny_bert("fill-mask").eval(), _tiny_bert("sentiment").eval()
    chunks = offline_models.fill_mask.chunks_of(
        tokenizer, ["the film was fun and the plot was good " * 6] * 3, 32
    )
    with fake_gpu() as gpu:
        masked_lm.to("cuda")
        classifier.to("cuda")
        texts, labels = ["a good film", "a bad film", "fine"], [1, 0, 1]
        assert 0 <= offline_models.sentiment_accuracy(classifier, tokenizer, texts, labels) <= 1
        assert (
            0
            <= offline_models.masked_top_k_accuracy(masked_lm, tokenizer, chunks, batch_size=2)
            <= 1
        )
        assert len(offline_models.fill_mask_probe(masked_lm, tokenizer)) == 5
        assert gpu.calls["embedding"] >= 3


@pytest.mark.parametrize("role", ["fill-mask", "sentiment"])
def test_offline_builds_train_on_the_gpu(fake_gpu, monkeypatch, tmp_path, role):
    """The whole build (a tiny model, two steps) runs on the GPU and saves a CPU model."""
    import transformers

    from tutorial_utils import offline_models

    model = _tiny_bert(role)
    monkeypatch.setattr(
        offline_models.fill_mask, "new_masked_lm", lambda source, dropout=0.1: model
    )
    monkeypatch.setattr(
        transformers.AutoModelForSequenceClassification, "from_pretrained", lambda *a, **k: model
    )
    folder = tmp_path / role
    with fake_gpu() as gpu:
        if role == "fill-mask":
            recipe = offline_models.FillMaskRecipe(
                steps=2, batch_size=8, train_reviews=60, eval_chunks=8, eval_batch_size=8
            )
            with pytest.warns(RuntimeWarning, match="quality bar"):  # two steps of a tiny model
                figures = offline_models.build_fill_mask(folder, recipe, progress=False)
        else:
            recipe = offline_models.SentimentRecipe(steps=2, batch_size=8, eval_batch_size=512)
            with pytest.warns(RuntimeWarning, match="quality bar"):
                figures = offline_models.build_sentiment(folder, recipe, progress=False)
    assert figures["device"] == "cuda"
    assert gpu.calls["cross_entropy"] >= 2  # the training steps' losses were computed there
    assert (folder / "model.safetensors").exists()
    assert all(p.device.type == "cpu" for p in model.parameters())  # saved from the CPU


def test_lora_layer_follows_its_base_layer_to_the_gpu(fake_gpu):
    """LoRALinear wrapping a layer of a model on the GPU: A and B are made there too."""
    import torch

    from tutorial_utils.lora import LoRALinear

    base = torch.nn.Linear(8, 4)
    with fake_gpu():
        base.to("cuda")
        layer = LoRALinear(base, r=2)
        assert {p.device.type for p in layer.parameters()} == {"cuda"}
        x = torch.randn(3, 8).to("cuda")
        assert layer(x).shape == (3, 4) and layer.merged()(x).shape == (3, 4)


if __name__ == "__main__":  # the command CONTRIBUTING.md gave before the scan moved to tools/
    from tools.device_scan import main

    sys.exit(main())
