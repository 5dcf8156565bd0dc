"""A Chinese reader's first lesson in JupyterLab: the zh-CN edition opens, runs and renders.

JupyterLab serves a copy of ``notebooks/zh-CN/01_attention_maths.ipynb`` (the same kernel and
package a learner gets with ``python dev.py lab --lang zh-CN``); headless Chromium opens it,
runs every cell with JupyterLab's own "run all" command, and waits for the Chinese lines the
course prints (the setup line, an exercise verdict). Chinese characters must render as real
glyphs (``fonts-noto-cjk``), not as empty boxes. Screenshots go to ``outputs/zh-CN/``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tutorial_utils.paths import output_dir

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "zh-CN" / "01_attention_maths.ipynb"

# Two different characters drawn alike means the browser has no font for them: it shows the
# same empty box (the font's .notdef glyph) for both.
GLYPHS_DIFFER_JS = """
() => {
  const draw = (text) => {
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 64;
    const context = canvas.getContext('2d');
    context.font = '40px sans-serif';
    context.fillText(text, 4, 48);
    return canvas.toDataURL();
  };
  return draw('注') !== draw('意') && draw('注') !== draw('');
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a copy of the zh-CN lesson; yields (url, token, folder)."""
    folder = tmp_path_factory.mktemp("zh-lab")
    shutil.copy2(LESSON, folder / LESSON.name)
    # No "get notified about Jupyter news?" pop-up over the screenshots.
    (folder / ".config" / "labconfig").mkdir(parents=True)
    (folder / ".config" / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}',
        encoding="utf-8",
    )
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "JUPYTER_CONFIG_DIR": str(folder / ".config"),  # no settings of the machine's own
        "JUPYTER_RUNTIME_DIR": str(folder / ".runtime"),
    }
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}", "--expose-app-in-browser",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (folder / "lab.log").open("w", encoding="utf-8")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                pytest.fail(
                    f"JupyterLab did not start:\n{(folder / 'lab.log').read_text(encoding='utf-8')}"
                )
            time.sleep(0.5)
    try:
        yield url, token, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_a_chinese_reader_runs_lesson_01_in_jupyterlab(lab, browser):
    url, token, folder = lab
    original = LESSON.read_bytes()
    out = output_dir("zh-CN")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{url}/lab/tree/{LESSON.name}?token={token}", timeout=90_000)
        heading = page.locator(".jp-MarkdownOutput h1").first
        heading.wait_for(timeout=90_000)
        assert "注意力" in heading.inner_text(), heading.inner_text()
        assert page.evaluate(GLYPHS_DIFFER_JS), "Chinese characters render as empty boxes"
        page.screenshot(path=str(out / "jupyterlab_lesson01_opened.png"))

        # Wait for the kernel, then JupyterLab's own Run > Run All Cells.
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session",
            timeout=90_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        outputs = page.locator(".jp-OutputArea-output")
        outputs.filter(has_text="设备").first.wait_for(timeout=120_000)  # the setup line
        verdict = outputs.filter(has_text="尚未作答").first  # an exercise left for the reader
        verdict.wait_for(timeout=180_000)
        verdict.scroll_into_view_if_needed()
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, tracebacks[:2]
        page.screenshot(path=str(out / "jupyterlab_lesson01_ran.png"))
    finally:
        context.close()
    assert (out / "jupyterlab_lesson01_ran.png").stat().st_size > 10_000
    assert LESSON.read_bytes() == original  # JupyterLab ran a copy; the edition is untouched
