"""A static scan of notebooks: would each run unchanged on a CUDA GPU?

On a GPU, the lessons move each model to ``tu.device()`` (and ``tu.classifier.train_classifier``,
``Trainer`` put it there), while tokenizers, data collators and ``torch.tensor``/``torch.randn``
make their tensors on the CPU. Mixing the two fails on the GPU only ("Expected all tensors to
be on the same device"), and so does NumPy/matplotlib on a GPU tensor ("can't convert cuda:0
device type tensor to numpy"). On a CPU everything is on the CPU, so running the notebooks
there proves nothing: this scan reads them instead.

It reads every code cell of a notebook, cell after cell in order, and follows, by name, which
values are *on the device*: models moved with ``.to(...)``/``.cuda()`` (``Module.to`` and
``BatchEncoding.to`` work in place), models trained by ``tu.classifier.train_classifier`` or
given to ``Trainer(model=...)``, the ``.model`` of a pipeline, and whatever such a model
returns or is computed from it; which are *on the CPU*: ``tokenizer(..., return_tensors=...)``
(also ``apply_chat_template``, ``pad``, ``encode``), data-collator outputs, ``torch``
factories without ``device=`` (``torch.tensor``, ``torch.randn``, ...), ``.cpu()`` results;
and which models stay on the CPU (``nn`` modules, ``X.from_pretrained(...)`` never moved). A
notebook's own functions are read at each call with the arguments' placement; functions the
notebook never calls itself (exercise answers handed to ``tu.exercises.check``) are read with
parameters named ``model``/``*_model`` on the device. It reports

* a CPU tensor passed to a call on a device value (``model(...)``, ``model.generate(...)``,
  ``model.get_input_embeddings()(...)``, ``logits.masked_fill(cpu_mask, ...)``), a device
  tensor passed to a model on the CPU, and CPU and device tensors mixed in ``torch.*``/
  ``F.*`` calls, arithmetic or comparisons (``logits.argmax(-1) == cpu_labels``);
* a device tensor given to NumPy/pandas/matplotlib/scikit-learn without ``.cpu()``:
  ``.numpy()``, ``np.*(x)``, ``pd.DataFrame(x)``, ``ax.imshow(x)``/``plt.plot(x)`` and other
  plotting calls, ``*_score(x)``, ``.fit(x)``/``.predict(x)``;
* ``x.to(device)`` as a bare statement on a *tensor* (``Tensor.to`` is not in place);
* a pretrained model (``from_pretrained``) run on tensors without ever being moved to the
  device: it works, but on the CPU even where there is a GPU;
* a ``Trainer`` whose ``TrainingArguments`` set neither ``bf16`` nor ``fp16`` (nor
  ``**tu.mixed_precision_args()``): float32 training on a GPU;
* ``pipeline(...)`` without ``device=``: transformers 5 puts it on ``cuda:0`` whenever there
  is a GPU, so ``TUTORIAL_DEVICE=cpu`` would not reach it.

It cannot see: values whose origin is not written in the notebook (read from a dataset with
``with_format("torch")``, built by appending in a loop, kept in containers), calls made for
the notebook by a library or a thread (``threading.Thread(target=model.generate,
kwargs=...)``; pipelines handle devices themselves and return CPU results), what
``tutorial_utils`` and ``tu.exercises.check`` do inside (tests/test_device_safety.py runs
those on a fake GPU), control flow (both branches of an ``if`` are read one after the other,
a loop once), and dtype problems (a bfloat16 tensor given to NumPy). A tokenizer must be
recognisable: from ``*Tokenizer*.from_pretrained``, a ``.tokenizer`` attribute, or a name
ending in ``tokenizer``.

``python -m tools.device_scan [NOTEBOOK ...]`` prints the findings (default: every lesson and
solution notebook); tests/test_device_safety.py asserts there are none.
"""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


_UNHANDLED = object()  # a Scanner.call step returns it when the call is not its kind


@dataclass(frozen=True)
class _Call:
    """A call, read once: its names, and the kinds of what is called and of its arguments."""

    node: ast.Call
    dotted: str  # "torch.nn.functional.softmax", "" for a computed callee
    short: str  # the last part of ``dotted``
    method: str | None  # the attribute called, for ``x.method(...)``
    keywords: dict[str, ast.expr]
    func_kind: str | None  # what is called (a name, a call's result) or a method's receiver
    callee: str | None  # what is called, attributes resolved (pipe.model, pipe.tokenizer)
    arguments: list[ast.expr]
    kinds: list[str | None]  # the kind of each argument
    root: str | None  # the name the callee expression starts from

    @classmethod
    def of(cls, node: ast.Call, scanner: Scanner, env: dict[str, str]) -> _Call:
        func = node.func
        dotted = _dotted(func)
        if isinstance(func, ast.Attribute):
            func_kind = scanner.kind(func.value, env)
            callee = scanner.attribute(func_kind, func.attr)
        else:
            func_kind = callee = scanner.kind(func, env)
        arguments = list(node.args) + [k.value for k in node.keywords]
        return cls(
            node=node,
            dotted=dotted,
            short=dotted.rsplit(".", 1)[-1] if dotted else "",
            method=func.attr if isinstance(func, ast.Attribute) else None,
            keywords={k.arg: k.value for k in node.keywords if k.arg},
            func_kind=func_kind,
            callee=callee,
            arguments=arguments,
            kinds=[scanner.kind(a, env) for a in arguments],
            root=_root_name(func),
        )


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

    def call(self, node: ast.Call, env: dict[str, str]) -> str | None:
        """The kind of a call's result; reports what the call does wrong on a GPU."""
        c = _Call.of(node, self, env)
        for step in (self.moving, self.host_result, self.made, self.to_host, self.forward):
            kind = step(c, env)
            if kind is not _UNHANDLED:
                return kind
        return self.torch_function(c)

    def moving(self, c: _Call, env: dict[str, str]) -> str | None | object:
        """``.to(...)`` / ``.cuda()`` / ``.cpu()``: where the value (and a module, in place) goes."""
        if c.method not in {"to", "cuda", "cpu"}:
            return _UNHANDLED
        func = c.node.func
        target = _move_target(c.node) if c.method == "to" else None
        if target is not None and _is_dtype(target):
            return c.func_kind
        to_cpu = c.method == "cpu" or self.on_cpu(target, env)
        if c.func_kind in MODELS:
            if isinstance(func.value, ast.Name):  # Module.to works in place
                env[func.value.id] = CPU_MODEL if to_cpu else DEV_MODEL
            return CPU_MODEL if to_cpu else DEV_MODEL
        if c.func_kind == CPU_BATCH and isinstance(func.value, ast.Name) and not to_cpu:
            env[func.value.id] = DEV  # BatchEncoding.to works in place and returns itself
        return CPU if to_cpu else DEV

    def host_result(self, c: _Call, env: dict[str, str]) -> str | None | object:
        """``.item()``, ``.tolist()``, ``.numpy()``, ...: plain Python; ``.float()`` keeps the kind."""
        if c.method in HOST_RESULTS:
            if c.method == "numpy" and c.func_kind in ON_DEVICE:
                self.report(
                    c.node,
                    "`.numpy()` of a tensor on the model's device: write `.cpu().numpy()` "
                    "(a CUDA tensor cannot become a NumPy array)",
                )
            return None
        if c.method in KEEPS_KIND:
            return c.func_kind
        return _UNHANDLED

    def made(self, c: _Call, env: dict[str, str]) -> str | None | object:  # noqa: C901
        """Where models, pipelines, tokenizers, trainers and new tensors come from."""
        node, dotted, short, keywords = c.node, c.dotted, c.short, c.keywords
        if c.method == "from_pretrained":
            owner = _dotted(node.func.value)
            if "Tokenizer" in owner or "Processor" in owner:
                return TOKENIZER
            if any(h in owner for h in MODEL_CLASS_HINTS) and "Config" not in owner:
                if "device_map" in keywords:
                    return DEV_MODEL
                # PeftModel.from_pretrained(base, folder): the adapter joins the base model,
                # on the base model's device
                base = c.kinds[0] if node.args else None
                if base in ON_DEVICE:
                    return DEV_MODEL
                return base if base in CPU_MODELS else CPU_PRETRAINED
            return None
        if dotted in {"pipeline", "transformers.pipeline"}:
            if not {"device", "device_map"} & set(keywords):
                self.report(
                    node,
                    "`pipeline(...)` without `device=`: transformers puts it on cuda:0 whenever "
                    "there is a GPU, whatever TUTORIAL_DEVICE says; pass `device=tu.device()`",
                )
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
            self.trainer(c, env)
            return None
        if short in self.module_classes or (
            dotted.startswith(("nn.", "torch.nn.")) and short[:1].isupper()
        ):
            return CPU_MODEL
        if dotted.startswith("tu."):
            return None  # tutorial_utils helpers handle devices themselves (part 2 checks some)
        if short == "from_torch" and node.args:
            return c.kinds[0] if c.kinds[0] in MODELS else None
        if short.startswith("DataCollator"):
            return COLLATOR
        if dotted.startswith("torch.") and short in TORCH_FACTORIES:
            device = keywords.get("device")
            return CPU if device is None or _is_cpu(device) else DEV
        if dotted.startswith("torch.") and short in LIKE_FACTORIES and node.args:
            on_device = "device" in keywords and not _is_cpu(keywords["device"])
            return DEV if on_device else c.kinds[0]
        tokenizer_call = c.callee == TOKENIZER or (
            c.func_kind == TOKENIZER
            and c.method in {"__call__", "apply_chat_template", "pad", "encode", "encode_plus"}
        )
        if tokenizer_call or c.func_kind == COLLATOR or "collator" in dotted.lower():
            if tokenizer_call and "return_tensors" not in keywords:
                return None  # lists of ids: no tensors at all
            return CPU_BATCH
        return _UNHANDLED

    def trainer(self, c: _Call, env: dict[str, str]) -> None:
        """``Trainer(model=m, args=a)``: ``m`` goes to the device; float32 ``a`` is reported."""
        node, keywords = c.node, c.keywords
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

    def to_host(self, c: _Call, env: dict[str, str]) -> str | None | object:
        """NumPy, pandas, matplotlib and scikit-learn calls: their tensors must be on the CPU."""
        method, short, func_kind = c.method, c.short, c.func_kind
        host = (
            c.root in HOST_LIBRARIES
            or method in PLOT_METHODS
            or short.endswith("_score")
            or short in {"confusion_matrix", "classification_report"}
            or (method in SKLEARN_METHODS and func_kind not in ON_DEVICE | MODELS)
        )
        if not host or func_kind in ON_DEVICE:
            return _UNHANDLED
        for argument, kind in zip(c.arguments, c.kinds, strict=True):
            if kind in ON_DEVICE:
                self.report(
                    argument,
                    f"a tensor on the model's device goes to `{c.dotted or method}`: add "
                    "`.cpu()` first (NumPy, pandas, matplotlib and scikit-learn need CPU data)",
                )
        return None

    def forward(self, c: _Call, env: dict[str, str]) -> str | None | object:
        """A notebook function (read with these arguments), or a model run on its inputs."""
        callee, func = c.callee, c.node.func
        if isinstance(callee, str) and callee.startswith(FUNCTION):
            return self.run_function(callee, c.node, env)
        pairs = list(zip(c.arguments, c.kinds, strict=True))
        if callee in ON_DEVICE and c.method not in NOT_A_FORWARD:  # a forward or a tensor method
            for argument, kind in pairs:
                if kind in CPU_KINDS:
                    self.report(
                        argument,
                        f"`{ast.unparse(argument)}` is on the CPU but goes into "
                        f"`{ast.unparse(func)}(...)`, which is on the model's device: move it "
                        "with `.to(model.device)`",
                    )
            return DEV
        if c.func_kind in ON_DEVICE:
            return c.func_kind if c.method in {"eval", "train"} else None
        if callee in CPU_MODELS and c.method in {None, "forward", "generate"}:  # on the CPU
            for argument, kind in pairs:
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
        return _UNHANDLED

    def torch_function(self, c: _Call) -> str | None:
        """``torch.*`` and ``F.*``: the result is where the inputs are; mixing is reported."""
        if c.root in {"torch", "F"} or c.callee == TORCH_FUNCTION:
            tensor_kinds = {k for k in c.kinds if k in ON_DEVICE | CPU_KINDS}
            if tensor_kinds & ON_DEVICE and tensor_kinds & CPU_KINDS:
                self.report(
                    c.node,
                    f"`{c.dotted}` gets tensors from the model's device and from the CPU: move "
                    "them to one device first",
                )
            if tensor_kinds & ON_DEVICE:
                return DEV
            return CPU if tensor_kinds else None
        if c.func_kind == CPU and isinstance(c.node.func, ast.Attribute):
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


def main(argv: list[str] | None = None) -> int:
    """Print the findings for the notebooks given (default: every lesson and solution)."""
    from tools.series import lesson_notebooks

    names = sys.argv[1:] if argv is None else argv
    paths = [Path(p).resolve() for p in names] or lesson_notebooks(include_solutions=True)
    total = 0
    for path in paths:
        for finding in scan_notebook(path):
            print(finding)
            total += 1
    print(f"{total} finding(s) in {len(paths)} notebook(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
