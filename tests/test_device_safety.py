"""Device safety on a CPU-only machine: would each notebook run unchanged on a CUDA GPU?

On a GPU, the lessons move each model to ``tu.device()`` (and ``tu.classifier.train_classifier``,
``Trainer`` put it there), while tokenizers, data collators and ``torch.tensor``/``torch.randn`` make their
tensors on the CPU. Mixing the two fails on the GPU only ("Expected all tensors to be on the
same device"), and so does NumPy/matplotlib on a GPU tensor ("can't convert cuda:0 device
type tensor to numpy"). On a CPU everything is on the CPU, so running the notebooks here
proves nothing. This file checks it in two ways.

1. A static scan of every code cell of every lesson and solution notebook (lessons 00-09 as
   they appear: :func:`tools.series.lesson_notebooks`), cell after cell in order. It
   follows, by name, which values are *on the device*: models moved
   with ``.to(...)``/``.cuda()`` (``Module.to`` and ``BatchEncoding.to`` work in place),
   models trained by ``tu.classifier.train_classifier`` or given to ``Trainer(model=...)``,
   the ``.model`` of a pipeline, and whatever such a model returns or is computed from it;
   which are *on the CPU*: ``tokenizer(..., return_tensors=...)`` (also ``apply_chat_template``,
   ``pad``, ``encode``), data-collator outputs, ``torch`` factories without ``device=``
   (``torch.tensor``, ``torch.randn``, ...), ``.cpu()`` results; and which models stay on the
   CPU (``nn`` modules, ``X.from_pretrained(...)`` never moved). A notebook's own functions are
   read at each call with the arguments' placement; functions the notebook never calls itself
   (exercise answers handed to ``tu.exercises.check``) are read with parameters named
   ``model``/``*_model`` on the device. It reports

   * a CPU tensor passed to a call on a device value (``model(...)``, ``model.generate(...)``,
     ``model.get_input_embeddings()(...)``, ``logits.masked_fill(cpu_mask, ...)``), a device
     tensor passed to a model on the CPU, and CPU and device tensors mixed in ``torch.*``/
     ``F.*`` calls, arithmetic or comparisons (``logits.argmax(-1) == cpu_labels``);
   * a device tensor given to NumPy/pandas/matplotlib/scikit-learn without ``.cpu()``:
     ``.numpy()``, ``np.*(x)``, ``pd.DataFrame(x)``, ``ax.imshow(x)``/``plt.plot(x)`` and
     other plotting calls, ``*_score(x)``, ``.fit(x)``/``.predict(x)``;
   * ``x.to(device)`` as a bare statement on a *tensor* (``Tensor.to`` is not in place);
   * a pretrained model (``from_pretrained``) run on tensors without ever being moved to the
     device: it works, but on the CPU even where there is a GPU;
   * a ``Trainer`` whose ``TrainingArguments`` set neither ``bf16`` nor ``fp16`` (nor
     ``**tu.mixed_precision_args()``): float32 training on a GPU;
   * ``pipeline(...)`` without ``device=``: transformers 5 puts it on ``cuda:0`` whenever there
     is a GPU, so ``TUTORIAL_DEVICE=cpu`` would not reach it.

   It cannot see: values whose origin is not written in the notebook (read from a dataset with
   ``with_format("torch")``, built by appending in a loop, kept in containers), calls made
   for the notebook by a library or a thread (``threading.Thread(target=model.generate,
   kwargs=...)``; pipelines handle devices themselves and return CPU results), what
   ``tutorial_utils`` and ``tu.exercises.check`` do inside (part 2 checks the plotting and
   metrics helpers; tests/test_classifier.py and tests/test_precision.py the training ones),
   control flow (both branches of an ``if`` are read one after the other, a loop once), and
   dtype problems (a bfloat16 tensor given to NumPy). A tokenizer must be recognisable: from
   ``*Tokenizer*.from_pretrained``, a ``.tokenizer`` attribute, or a
   name ending in ``tokenizer``. Removing each ``.to(...device...)`` and ``.cpu()`` from
   lessons 00-09 and their solutions one at a time (a mutation check run when this was
   written: 77 removals), the scan reported 59, each one a GPU failure or a model left on the
   CPU. Of the 18 it did not report, 12 are harmless (a result only printed, indexed, compared
   on the same device or given to a helper that calls ``.cpu()`` itself) and 6 it cannot see:
   5 ``generate`` calls run by a ``Thread`` (lessons 07 and 08), 1 value returned by an
   exercise stub (lesson 03's ``mean_pool``).

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

``python tests/test_device_safety.py [NOTEBOOK ...]`` prints the scan's findings.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.series import lesson_notebooks  # noqa: E402

# --- part 1: the static scan -------------------------------------------------------------------

DEV = "device tensor"  # a tensor (or batch) on the model's device
DEV_MODEL = "device model"  # a model or sub-module on the device
CPU = "cpu tensor"
CPU_BATCH = "cpu batch"  # a BatchEncoding / collator dict on the CPU: its .to() works in place
CPU_MODEL = "cpu model"  # a module known to be on the CPU (until .to(...) or training)
CPU_PRETRAINED = "pretrained model not moved"  # from_pretrained(...) and never .to(device)
PIPELINE, TOKENIZER, COLLATOR = "pipeline", "tokenizer", "collator"
FLOAT32_ARGS = "TrainingArguments without bf16/fp16"
TRAINED = "train_from_scratch result"  # a dict whose "model" is on the device
TORCH_FUNCTION = "a torch function"  # cosine = torch.nn.functional.cosine_similarity
FUNCTION = "function:"  # env value prefix of a function defined in the notebook
ON_DEVICE = {DEV, DEV_MODEL}
CPU_KINDS = {CPU, CPU_BATCH}
MODELS = {DEV_MODEL, CPU_MODEL, CPU_PRETRAINED}
CPU_MODELS = {CPU_MODEL, CPU_PRETRAINED}

TORCH_FACTORIES = {
    "tensor",
    "as_tensor",
    "from_numpy",
    "randn",
    "rand",
    "randint",
    "randperm",
    "zeros",
    "ones",
    "full",
    "empty",
    "arange",
    "linspace",
    "eye",
}
LIKE_FACTORIES = {"zeros_like", "ones_like", "randn_like", "rand_like", "full_like", "empty_like"}
# methods of a device value that are no forward pass: they take no tensor, or any device's
NOT_A_FORWARD = {
    "to",
    "cpu",
    "cuda",
    "eval",
    "train",
    "copy_",
    "load_state_dict",
    "type_as",
    "view_as",
    "expand_as",
    "reshape_as",
    "new_tensor",
    "save_pretrained",
    "push_to_hub",
    "state_dict",
    "parameters",
    "named_parameters",
    "modules",
    "named_modules",
    "children",
    "num_parameters",
    "register_forward_hook",
    "requires_grad_",
}
HOST_RESULTS = {"tolist", "item", "numpy", "size", "dim", "numel"}  # plain Python / NumPy
KEEPS_KIND = {"eval", "train", "requires_grad_", "float", "half", "bfloat16", "double", "detach"}
NOT_TENSORS = {"config", "device", "dtype", "shape", "generation_config", "name_or_path", "ndim"}
PLOT_METHODS = {
    "imshow",
    "matshow",
    "plot",
    "bar",
    "barh",
    "hist",
    "scatter",
    "pcolormesh",
    "pcolor",
    "contour",
    "contourf",
    "fill_between",
    "errorbar",
    "stem",
    "step",
    "boxplot",
    "violinplot",
    "semilogx",
    "semilogy",
    "loglog",
}
HOST_LIBRARIES = {"np", "numpy", "pd", "pandas", "plt", "sns"}
SKLEARN_METHODS = {"fit", "predict", "fit_transform", "transform", "predict_proba"}
DEVICE_MOVERS = {"train_classifier"}  # tu.classifier functions that move their model argument
MODEL_CLASS_HINTS = ("Model", "For")  # AutoModel, AutoModelForX, BertForMaskedLM, ...


@dataclass(frozen=True)
class Finding:
    notebook: str
    cell: int  # index in the notebook's cells
    cell_id: str
    line: int  # line in the cell
    message: str
    code: str

    def __str__(self) -> str:
        return (
            f"{self.notebook} cell {self.cell} (id {self.cell_id}) line {self.line}: "
            f"{self.message}\n    {self.code}"
        )


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_cpu(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "cpu"


def _is_dtype(node: ast.AST) -> bool:
    """``x.to(hidden.dtype)`` / ``x.to(torch.float32)`` change the dtype, not the device."""
    if isinstance(node, ast.Attribute) and node.attr == "dtype":
        return True
    dotted = _dotted(node)
    return dotted.startswith("torch.") and any(
        k in dotted for k in ("float", "half", "bfloat", "int", "long", "bool", "double")
    )


def _move_target(node: ast.Call) -> ast.AST | None:
    for keyword in node.keywords:
        if keyword.arg == "device":
            return keyword.value
    return node.args[0] if node.args else None


class Scanner:
    """Follows device placement through one notebook's code cells (see the module docstring)."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        self.env: dict[str, str] = {}
        self.module_classes: set[str] = {"TransformerClassifier"}
        self.functions: dict[str, dict] = {}
        self.depth = 0
        self.findings: list[Finding] = []
        self.cell, self.cell_id, self.lines = 0, "", []

    def report(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 1)
        code = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        finding = Finding(self.notebook, self.cell, self.cell_id, line, message, code)
        if finding not in self.findings:
            self.findings.append(finding)

    # -- statements
    def scan_cell(self, index: int, cell_id: str, source: str) -> None:
        self.cell, self.cell_id = index, cell_id
        self.lines = [
            "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
        ]
        try:
            tree = ast.parse("\n".join(self.lines))
        except SyntaxError:
            return
        self.block(tree.body, self.env)

    def block(self, statements: list[ast.stmt], env: dict[str, str]) -> None:
        for statement in statements:
            self.statement(statement, env)

    def statement(self, node: ast.stmt, env: dict[str, str]) -> None:  # noqa: C901
        if isinstance(node, ast.Assign):
            pairs = isinstance(node.value, ast.Tuple) and all(
                isinstance(t, ast.Tuple) and len(t.elts) == len(node.value.elts)
                for t in node.targets
            )
            if pairs:  # a, b = x.to(device), y: element by element
                kinds = [self.kind(v, env) for v in node.value.elts]
                for target in node.targets:
                    for element, kind in zip(target.elts, kinds, strict=True):
                        self.bind(element, kind, env)
                return
            kind = self.kind(node.value, env)
            for target in node.targets:
                self.bind(target, kind, env)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.bind(node.target, self.kind(node.value, env), env)
        elif isinstance(node, ast.AugAssign):
            self.mix(node, self.kind(node.target, env), self.kind(node.value, env))
        elif isinstance(node, ast.Expr):
            self.expression_statement(node.value, env)
        elif isinstance(node, ast.For | ast.AsyncFor):
            iterated = self.kind(node.iter, env)
            self.bind(node.target, iterated if iterated in ON_DEVICE else None, env)
            self.block(node.body + node.orelse, env)
        elif isinstance(node, ast.While | ast.If):
            self.kind(node.test, env)
            self.block(node.body + node.orelse, env)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                kind = self.kind(item.context_expr, env)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, kind, env)
            self.block(node.body, env)
        elif isinstance(node, ast.Try):
            self.block(node.body, env)
            for handler in node.handlers:
                self.block(handler.body, env)
            self.block(node.orelse + node.finalbody, env)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(node, env)
        elif isinstance(node, ast.ClassDef):
            bases = {_dotted(b).rsplit(".", 1)[-1] for b in node.bases}
            if bases & ({"Module"} | self.module_classes):
                self.module_classes.add(node.name)
            env.pop(node.name, None)
        elif isinstance(node, ast.Return) and node.value is not None:
            kind = self.kind(node.value, env)
            if kind in ON_DEVICE:
                env["<return>"] = DEV
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    env.pop(target.id, None)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.kind(child, env)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, env: dict[str, str]) -> None:
        """Remember a function; its body is read at each call, with the arguments' placement."""
        key = f"{FUNCTION}{id(node)}"
        self.functions[key] = {
            "node": node,
            "where": (self.cell, self.cell_id, self.lines),
            "env": env,
            "called": False,
        }
        env[node.name] = key

    def run_function(self, key: str, call: ast.Call | None, env: dict[str, str]) -> str | None:
        """Read a function's body for one call (``call=None``: never called in the notebook,
        so parameters named ``model`` or ``*_model`` are taken to be on the device)."""
        info = self.functions[key]
        node = info["node"]
        if self.depth > 3:
            return None
        params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        local = {k: v for k, v in env.items() if k != "<return>"}
        for name in params:
            local.pop(name, None)
        passed: dict[str, ast.AST] = {}
        if call is None:
            for name in params:
                if name == "model" or name.endswith("_model"):
                    local[name] = DEV_MODEL
        else:
            info["called"] = True
            positional = [a for a in call.args if not isinstance(a, ast.Starred)]
            passed.update(zip(params, positional, strict=False))
            passed.update({k.arg: k.value for k in call.keywords if k.arg in params})
            for name, argument in passed.items():
                kind = self.kind(argument, env)
                if kind is None and (name == "model" or name.endswith("_model")):
                    kind = DEV_MODEL  # a model of unknown origin: take it to be on the device
                if kind is not None:
                    local[name] = kind
        saved = (self.cell, self.cell_id, self.lines)
        self.cell, self.cell_id, self.lines = info["where"]
        self.depth += 1
        try:
            self.block(node.body, local)
        finally:
            self.depth -= 1
            self.cell, self.cell_id, self.lines = saved
        for name, argument in passed.items():  # modules moved inside move the caller's too
            if isinstance(argument, ast.Name) and env.get(argument.id) in CPU_MODELS:
                if local.get(name) == DEV_MODEL:
                    env[argument.id] = DEV_MODEL
        return DEV if local.get("<return>") == DEV else None

    def finish(self) -> None:
        """Read the functions the notebook never calls itself (exercise answers, callbacks)."""
        for key, info in list(self.functions.items()):
            if not info["called"]:
                info["called"] = True
                self.run_function(key, None, info["env"])

    def bind(self, target: ast.AST, kind: str | None, env: dict[str, str]) -> None:
        if isinstance(target, ast.Name):
            if kind is None:
                env.pop(target.id, None)
            else:
                env[target.id] = kind
        elif isinstance(target, ast.Tuple | ast.List):
            # unpacking a call: (output, weights) = mha(...) -> both where the module is;
            # model, info = X.from_pretrained(..., output_loading_info=True) -> the model first
            for index, element in enumerate(target.elts):
                if kind in MODELS:
                    self.bind(element, kind if index == 0 else None, env)
                else:
                    self.bind(element, kind if kind in (DEV, CPU) else None, env)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, env)
        else:
            self.kind(target, env)

    def expression_statement(self, node: ast.expr, env: dict[str, str]) -> None:
        """``batch.to(device)`` / ``model.to(device)`` alone: in place for batches and modules."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in {"to", "cuda", "cpu"}
        ):
            name, method = node.func.value.id, node.func.attr
            kind = self.kind(node.func.value, env)
            target = _move_target(node)
            if method == "to" and target is not None and _is_dtype(target):
                return
            to_cpu = method == "cpu" or self.on_cpu(target, env)
            if kind in MODELS:
                env[name] = CPU_MODEL if to_cpu else DEV_MODEL
                return
            if kind == CPU_BATCH:  # BatchEncoding.to works in place
                env[name] = CPU_BATCH if to_cpu else DEV
                return
            if kind == CPU and not to_cpu:
                self.report(
                    node,
                    f"`{name}.{method}(...)` alone does nothing to a tensor (Tensor.to is not in "
                    f"place): write `{name} = {name}.{method}(...)`",
                )
                return
        self.kind(node, env)

    # -- expressions
    def kind(self, node: ast.AST | None, env: dict[str, str]) -> str | None:  # noqa: C901
        if node is None:
            return None
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            return TOKENIZER if node.id.endswith("tokenizer") else None
        if isinstance(node, ast.Attribute):
            if _dotted(node).startswith(("torch.", "F.")) and node.value is not None:
                base = self.kind(node.value, env)
                return TORCH_FUNCTION if base is None else self.attribute(base, node.attr)
            return self.attribute(self.kind(node.value, env), node.attr)
        if isinstance(node, ast.Subscript):
            base = self.kind(node.value, env)
            self.kind(node.slice, env)
            if base == CPU_BATCH:
                return CPU
            if base == TRAINED:
                is_model = isinstance(node.slice, ast.Constant) and node.slice.value == "model"
                return DEV_MODEL if is_model else None
            return base if base in ON_DEVICE | MODELS | {CPU} else None
        if isinstance(node, ast.Starred):
            return self.kind(node.value, env)
        if isinstance(node, ast.BinOp):
            return self.mix(node, self.kind(node.left, env), self.kind(node.right, env))
        if isinstance(node, ast.Compare):
            left = self.kind(node.left, env)
            result = None
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.kind(comparator, env)
                if not isinstance(op, ast.In | ast.NotIn | ast.Is | ast.IsNot):
                    result = self.mix(node, left, right) or result
            return result
        if isinstance(node, ast.UnaryOp):
            return self.kind(node.operand, env)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.Lambda):
            return None
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp):
            local = dict(env)
            for generator in node.generators:
                iterated = self.kind(generator.iter, local)
                self.bind(generator.target, iterated if iterated in ON_DEVICE else None, local)
                for condition in generator.ifs:
                    self.kind(condition, local)
            if isinstance(node, ast.DictComp):
                self.kind(node.key, local)
                element = self.kind(node.value, local)
            else:
                element = self.kind(node.elt, local)
            return DEV if element in ON_DEVICE else None
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            kinds = {self.kind(e, env) for e in node.elts}
            return DEV if kinds & ON_DEVICE else None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.kind(child, env)
        return None

    def on_cpu(self, target: ast.AST | None, env: dict[str, str]) -> bool:
        """``.to("cpu")``, or ``.to(x.device)`` of something known to be on the CPU."""
        if _is_cpu(target):
            return True
        if isinstance(target, ast.Attribute) and target.attr == "device":
            return self.kind(target.value, env) in CPU_MODELS | CPU_KINDS
        return False

    @staticmethod
    def attribute(base: str | None, attr: str) -> str | None:
        if attr == "tokenizer":
            return TOKENIZER
        if base == PIPELINE and attr == "model":
            return DEV_MODEL
        if attr in NOT_TENSORS:
            return None
        if base == CPU_BATCH:
            return CPU
        return base if base in ON_DEVICE | MODELS | {CPU} else None

    def mix(self, node: ast.AST, left: str | None, right: str | None) -> str | None:
        """Arithmetic or a comparison of two values: both must be on one device."""
        kinds = {left, right}
        if kinds & ON_DEVICE and kinds & CPU_KINDS:
            self.report(
                node,
                "a tensor on the model's device meets a CPU tensor: move the CPU one with "
                "`.to(model.device)` (or bring the other back with `.cpu()`)",
            )
        if kinds & ON_DEVICE:
            return DEV
        return CPU if kinds & CPU_KINDS else None

    def call(self, node: ast.Call, env: dict[str, str]) -> str | None:  # noqa: C901
        func = node.func
        dotted = _dotted(func)
        short = dotted.rsplit(".", 1)[-1] if dotted else ""
        method = func.attr if isinstance(func, ast.Attribute) else None
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        # func_kind: what is called (a name, a call's result) or the receiver of a method
        if isinstance(func, ast.Attribute):
            func_kind = self.kind(func.value, env)
            callee = self.attribute(func_kind, func.attr)  # pipe.model(...), pipe.tokenizer(...)
        else:
            func_kind = callee = self.kind(func, env)
        arguments = list(node.args) + [k.value for k in node.keywords]
        kinds = [self.kind(a, env) for a in arguments]

        # moving: .to(...) / .cuda() / .cpu()
        if method in {"to", "cuda", "cpu"}:
            target = _move_target(node) if method == "to" else None
            if target is not None and _is_dtype(target):
                return func_kind
            to_cpu = method == "cpu" or self.on_cpu(target, env)
            if func_kind in MODELS:
                if isinstance(func.value, ast.Name):  # Module.to works in place
                    env[func.value.id] = CPU_MODEL if to_cpu else DEV_MODEL
                return CPU_MODEL if to_cpu else DEV_MODEL
            if func_kind == CPU_BATCH and isinstance(func.value, ast.Name) and not to_cpu:
                env[func.value.id] = DEV  # BatchEncoding.to works in place and returns itself
            return CPU if to_cpu else DEV
        if method in HOST_RESULTS:
            if method == "numpy" and func_kind in ON_DEVICE:
                self.report(
                    node,
                    "`.numpy()` of a tensor on the model's device: write `.cpu().numpy()` "
                    "(a CUDA tensor cannot become a NumPy array)",
                )
            return None
        if method in KEEPS_KIND:
            return func_kind

        # where models, pipelines, tokenizers and batches come from
        if method == "from_pretrained":
            owner = _dotted(func.value)
            if "Tokenizer" in owner or "Processor" in owner:
                return TOKENIZER
            if any(h in owner for h in MODEL_CLASS_HINTS) and "Config" not in owner:
                return DEV_MODEL if "device_map" in keywords else CPU_PRETRAINED
            return None
        if dotted in {"pipeline", "transformers.pipeline"} and not {"device", "device_map"} & set(
            keywords
        ):
            self.report(
                node,
                "`pipeline(...)` without `device=`: transformers puts it on cuda:0 whenever there "
                "is a GPU, whatever TUTORIAL_DEVICE says; pass `device=tu.device()`",
            )
        if dotted in {"pipeline", "transformers.pipeline"}:
            return PIPELINE
        if short == "train_from_scratch":
            return TRAINED
        if short in DEVICE_MOVERS and node.args and isinstance(node.args[0], ast.Name):
            env[node.args[0].id] = DEV_MODEL  # trains on tu.device(), as Trainer does
            return None
        if short == "TrainingArguments":
            mixed = {"bf16", "fp16"} & set(keywords) or any(
                k.arg is None and "mixed_precision" in ast.unparse(k.value) for k in node.keywords
            )
            return None if mixed else FLOAT32_ARGS
        if short == "Trainer":
            model = keywords.get("model", node.args[0] if node.args else None)
            if isinstance(model, ast.Name):
                env[model.id] = DEV_MODEL
            args = keywords.get("args", node.args[1] if len(node.args) > 1 else None)
            if args is not None and self.kind(args, env) == FLOAT32_ARGS:
                self.report(
                    args,
                    f"`{ast.unparse(args)}` sets neither bf16 nor fp16: on a GPU this Trainer "
                    "trains in float32. Add `**tu.mixed_precision_args()` to TrainingArguments(...) "
                    "(empty on the CPU, so nothing changes there)",
                )
            return None
        if short in self.module_classes or (
            dotted.startswith(("nn.", "torch.nn.")) and short[:1].isupper()
        ):
            return CPU_MODEL
        if dotted.startswith("tu."):
            return None  # tutorial_utils helpers handle devices themselves (part 2 checks some)
        if short == "from_torch" and node.args:
            return kinds[0] if kinds[0] in MODELS else None
        if short.startswith("DataCollator"):
            return COLLATOR
        if dotted.startswith("torch.") and short in TORCH_FACTORIES:
            device = keywords.get("device")
            return CPU if device is None or _is_cpu(device) else DEV
        if dotted.startswith("torch.") and short in LIKE_FACTORIES and node.args:
            return DEV if "device" in keywords and not _is_cpu(keywords["device"]) else kinds[0]
        tokenizer_call = callee == TOKENIZER or (
            func_kind == TOKENIZER
            and method in {"__call__", "apply_chat_template", "pad", "encode", "encode_plus"}
        )
        if tokenizer_call or func_kind == COLLATOR or "collator" in dotted.lower():
            if tokenizer_call and "return_tensors" not in keywords:
                return None  # lists of ids: no tensors at all
            return CPU_BATCH

        # NumPy, pandas, matplotlib, scikit-learn need CPU data
        root = _root_name(func)
        host = (
            root in HOST_LIBRARIES
            or method in PLOT_METHODS
            or short.endswith("_score")
            or short in {"confusion_matrix", "classification_report"}
            or (method in SKLEARN_METHODS and func_kind not in ON_DEVICE | MODELS)
        )
        if host and func_kind not in ON_DEVICE:
            for argument, kind in zip(arguments, kinds, strict=True):
                if kind in ON_DEVICE:
                    self.report(
                        argument,
                        f"a tensor on the model's device goes to `{dotted or method}`: add "
                        "`.cpu()` first (NumPy, pandas, matplotlib and scikit-learn need CPU data)",
                    )
            return None

        # a function of the notebook: read its body with these arguments
        if isinstance(callee, str) and callee.startswith(FUNCTION):
            return self.run_function(callee, node, env)

        # a call on something on the device: a forward pass, or a tensor method
        if callee in ON_DEVICE and method not in NOT_A_FORWARD:
            for argument, kind in zip(arguments, kinds, strict=True):
                if kind in CPU_KINDS:
                    self.report(
                        argument,
                        f"`{ast.unparse(argument)}` is on the CPU but goes into "
                        f"`{ast.unparse(func)}(...)`, which is on the model's device: move it "
                        "with `.to(model.device)`",
                    )
            return DEV
        if func_kind in ON_DEVICE:
            return func_kind if method in {"eval", "train"} else None
        if callee in CPU_MODELS and method in {None, "forward", "generate"}:  # on the CPU
            for argument, kind in zip(arguments, kinds, strict=True):
                if kind in ON_DEVICE:
                    self.report(
                        argument,
                        f"`{ast.unparse(argument)}` is on the model's device but "
                        f"`{ast.unparse(func)}` is on the CPU: move the model with "
                        "`.to(tu.device())`",
                    )
                elif kind in CPU_KINDS and callee == CPU_PRETRAINED:
                    self.report(
                        argument,
                        f"`{ast.unparse(func)}` was loaded with from_pretrained and never moved: "
                        "it runs on the CPU even on a GPU machine. Move it with "
                        "`.to(tu.device())` and its inputs with `.to(model.device)`",
                    )
            return CPU

        # torch.* and F.* functions: the result is where the inputs are; mixing fails
        if root in {"torch", "F"} or callee == TORCH_FUNCTION:
            tensor_kinds = {k for k in kinds if k in ON_DEVICE | CPU_KINDS}
            if tensor_kinds & ON_DEVICE and tensor_kinds & CPU_KINDS:
                self.report(
                    node,
                    f"`{dotted}` gets tensors from the model's device and from the CPU: move "
                    "them to one device first",
                )
            if tensor_kinds & ON_DEVICE:
                return DEV
            return CPU if tensor_kinds else None
        if func_kind == CPU and isinstance(func, ast.Attribute):
            return CPU  # a method of a CPU tensor
        return None


def scan_source(cells: list[tuple[int, str, str]], name: str = "<cells>") -> list[Finding]:
    """Findings for code cells given as ``(index, cell id, source)``, scanned in order."""
    scanner = Scanner(name)
    for index, cell_id, source in cells:
        scanner.scan_cell(index, cell_id, source)
    scanner.finish()
    return scanner.findings


def scan_notebook(path: Path) -> list[Finding]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = [
        (i, cell.get("id", ""), "".join(cell["source"]))
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
    ]
    relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return scan_source(cells, str(relative))


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

    from tutorial_utils import classifier, offline_models

    monkeypatch.setattr(classifier, "default_device", lambda: "cuda")
    monkeypatch.setattr(offline_models, "default_device", lambda: "cuda")
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
    chunks = offline_models._chunks(
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
    monkeypatch.setattr(offline_models, "_new_masked_lm", lambda source, dropout=0.1: model)
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


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or NOTEBOOKS
    total = 0
    for notebook_path in paths:
        for finding in scan_notebook(notebook_path):
            print(finding)
            total += 1
    print(f"{total} finding(s) in {len(paths)} notebook(s)")
