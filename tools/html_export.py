"""HTML copies of executed notebooks that read well with no network at all.

nbconvert's default HTML loads require.js, MathJax and the Jupyter widget manager from public
CDNs: offline the formulas stay raw TeX and widgets are blank. :func:`export_html` instead

- typesets the maths with a local MathJax 2 (the files of the PyPI package
  ``jupyter-server-mathjax``, copied once into ``_static/mathjax/`` beside the HTML, with
  its STIX-Web fonts);
- replaces each widget by a static picture of its saved state (the HTML it showed, the value
  chosen in each menu), with a note that the notebook makes it interactive;
- loads nothing else (no require.js, no widget manager, no mermaid).

:func:`write_index` writes an ``index.html`` linking every HTML copy in a folder.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STATIC = "_static"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"  # the combined file the package ships

# MathJax 2 as JupyterLab's classic pages used it: TeX in, HTML-CSS out, STIX-Web fonts (the only
# web fonts the package ships), all loaded from files beside the page.
_MATHJAX_HEAD = r"""
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  tex2jax: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  "HTML-CSS": {
    availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
    linebreaks: {automatic: true}
  },
  displayAlign: "center",
  messageStyle: "none",
  showMathMenu: false
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
"""

_TEMPLATE = (
    "{%- extends 'index.html.j2' -%}\n"
    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    "{%- block html_head_js_mathjax -%}" + _MATHJAX_HEAD + "{%- endblock html_head_js_mathjax -%}\n"
)


def mathjax_source() -> Path:
    """The MathJax 2 folder shipped by ``jupyter-server-mathjax`` (a course dependency)."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:
        raise ImportError(
            "Offline HTML copies need the package jupyter-server-mathjax: "
            "pip install jupyter-server-mathjax (python dev.py setup installs it)."
        ) from error
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _skip_mathjax_file(rel: Path) -> bool:
    """Parts of MathJax these pages never load (accessibility maps, SVG output, translations)."""
    text = rel.as_posix()
    if text.startswith(("extensions/a11y/", "jax/output/SVG/")):
        return True
    return text.startswith("localization/") and not text.startswith("localization/en/")


def copy_mathjax(folder: Path) -> Path:
    """Copy the MathJax files an offline page needs into ``folder/_static/mathjax`` (once)."""
    target = Path(folder) / STATIC / "mathjax"
    if (target / "MathJax.js").is_file():
        return target
    source = mathjax_source()
    partial = target.with_name("mathjax.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not _skip_mathjax_file(rel):
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, partial / rel)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


# --- widgets as static HTML -------------------------------------------------------------------


def _widget_html(model_id: str, state: dict, depth: int = 0) -> str:
    """Static HTML for one saved widget model (and its children)."""
    model = state.get(model_id)
    if model is None or depth > 20:
        return ""
    name = model.get("model_name", "")
    values = model.get("state", {})
    description = html.escape(str(values.get("description", "")))
    label = f"<b>{description}</b> " if description else ""
    children = [c.removeprefix("IPY_MODEL_") for c in values.get("children", [])]
    if name in {"VBoxModel", "BoxModel", "GridBoxModel"}:
        inner = "".join(f"<div>{_widget_html(c, state, depth + 1)}</div>" for c in children)
        return f'<div class="course-widget-box">{inner}</div>'
    if name == "HBoxModel":
        inner = "".join(
            f'<div style="margin-right:1.5em">{_widget_html(c, state, depth + 1)}</div>'
            for c in children
        )
        return f'<div style="display:flex;flex-wrap:wrap;align-items:baseline">{inner}</div>'
    if name in {"HTMLModel", "HTMLMathModel"}:
        return f"{label}{values.get('value', '')}"
    if name in {"DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel"}:
        options = values.get("_options_labels", [])
        index = values.get("index")
        chosen = options[index] if isinstance(index, int) and 0 <= index < len(options) else ""
        return f"{label}<code>{html.escape(str(chosen))}</code>"
    if name == "OutputModel":
        parts = []
        for output in values.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                parts.append(f'<img src="data:image/png;base64,{data["image/png"]}"/>')
            elif "text/html" in data:
                parts.append("".join(data["text/html"]))
            elif "text/plain" in data:
                parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
            elif output.get("output_type") == "stream":
                parts.append(f"<pre>{html.escape(''.join(output.get('text', '')))}</pre>")
        return "".join(parts)
    if "value" in values and not isinstance(values["value"], (dict, list)):
        return f"{label}<code>{html.escape(str(values['value']))}</code>"
    return ""


def static_widgets(notebook: dict) -> int:
    """Replace widget outputs by static HTML of their saved state; returns how many."""
    saved = notebook.get("metadata", {}).pop("widgets", {})
    state = saved.get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                continue
            model_id = data.pop(WIDGET_VIEW).get("model_id", "")
            body = _widget_html(model_id, state)
            note = (
                "a picture of an interactive widget as it was when the notebook ran; "
                "run the notebook in JupyterLab to use it"
                if body
                else "an interactive widget: run the notebook in JupyterLab to use it"
            )
            data["text/html"] = (
                f'<div class="course-static-widget" style="border:1px dashed #bbb;padding:6px">'
                f'<div style="font-size:85%;color:#666;margin-bottom:4px">({note})</div>{body}</div>'
            )
            replaced += 1
    return replaced


# --- export -----------------------------------------------------------------------------------


def _exporter(mathjax_url: str):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        template_file="course_offline.html.j2",
        extra_loaders=[DictLoader({"course_offline.html.j2": _TEMPLATE})],
        mathjax_url=mathjax_url,
    )


def export_html(notebook_path: Path, html_path: Path | None = None) -> Path:
    """Render a notebook as an HTML page that works offline; returns the HTML path.

    MathJax is copied into ``_static/mathjax`` beside the page (shared by pages in the folder).
    """
    import nbformat

    notebook_path = Path(notebook_path)
    html_path = Path(html_path) if html_path else notebook_path.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    copy_mathjax(html_path.parent)
    notebook = nbformat.read(notebook_path, as_version=4)
    static_widgets(notebook)
    url = f"{STATIC}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    body, _ = _exporter(url).from_notebook_node(
        notebook, resources={"metadata": {"name": notebook_path.stem}}
    )
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _title(html_path: Path) -> str:
    """The lesson title: the first heading of the notebook beside the page, else the name."""
    notebook = html_path.with_suffix(".ipynb")
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "markdown":
                for line in "".join(cell["source"]).splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    except (OSError, ValueError, KeyError):
        pass
    return html_path.stem.replace("_", " ")


def write_index(folder: Path, title: str = "Transformers course: lessons to read") -> Path:
    """Write ``folder/index.html``: a page linking every HTML copy below ``folder``."""
    folder = Path(folder)
    pages = sorted(
        p
        for p in folder.rglob("*.html")
        if p.name != "index.html" and STATIC not in p.relative_to(folder).parts
    )
    groups: dict[str, list[Path]] = {}
    for page in pages:
        parts = page.relative_to(folder).parts[:-1]
        kind = "Solutions" if "solutions" in parts else "Lessons"
        if "zh-CN" in parts:
            kind = {"Lessons": "课程（简体中文版）", "Solutions": "解答（简体中文版）"}[kind]
        groups.setdefault(kind, []).append(page)
    sections = []
    for kind in ("Lessons", "Solutions", "课程（简体中文版）", "解答（简体中文版）"):
        if kind not in groups:
            continue
        items = "".join(
            f'<li><a href="{html.escape(p.relative_to(folder).as_posix())}">'
            f"{html.escape(_title(p))}</a></li>"
            for p in groups[kind]
        )
        sections.append(f"<h2>{kind}</h2><ul>{items}</ul>")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<p>Executed copies of the notebooks, readable without Jupyter and without a network. "
        "Widgets show the state they were in when the notebook ran.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
