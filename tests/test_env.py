"""Online/offline decision, seeding, output folders, the environment report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import tutorial_utils as tu
from tutorial_utils import hub_mode

PROBE = r"""
import json, os, sys, time
t0 = time.perf_counter()
import tutorial_utils as tu
reachable, reason = tu.hub_status()
decided = time.perf_counter() - t0
import huggingface_hub.constants as c
t1 = time.perf_counter()
if "--load" in sys.argv:
    from transformers import AutoModel
    model = AutoModel.from_pretrained(tu.checkpoint("encoder"))
else:
    model = None
loaded = time.perf_counter() - t1
print(json.dumps({"reachable": reachable, "reason": reason, "decided": decided,
                  "loaded": loaded, "env": os.environ.get("HF_HUB_OFFLINE"),
                  "constant": c.HF_HUB_OFFLINE, "model": type(model).__name__}))
"""


def run_probe(endpoint: str, *args: str) -> dict:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"}
    }
    environment["HF_ENDPOINT"] = endpoint
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.255.255.1:81",  # non-routable: packets vanish, a connect would hang
        "http://127.0.0.1:9",  # refused at once
        "http://hub-mirror.invalid",  # name that never resolves
    ],
)
def test_unreachable_endpoint_decides_offline_within_two_seconds(endpoint):
    result = run_probe(endpoint)
    assert result["reachable"] is False
    assert result["decided"] < 2.0, result
    assert endpoint.split("//")[1].split(":")[0] in result["reason"]
    assert result["env"] == "1" and result["constant"] is True


def test_offline_decision_then_encoder_loads_without_retries():
    result = run_probe("http://10.255.255.1:81", "--load")
    assert result["reachable"] is False and result["decided"] < 2.0
    assert result["model"] == "BertModel"
    # a single hub retry cycle costs 25-50 s; a local load of MiniLM takes a few seconds
    assert result["loaded"] < 20.0, result


def test_hf_hub_offline_is_respected_without_probing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_mode, "_decision", None)
    monkeypatch.setattr(hub_mode, "_probe", lambda *a: pytest.fail("must not touch the network"))
    assert tu.hub_is_reachable() is False
    assert "HF_HUB_OFFLINE" in tu.hub_status()[1]


def test_decision_is_cached_per_process(monkeypatch):
    monkeypatch.setattr(hub_mode, "_decision", (False, "decided earlier"))
    assert tu.hub_status() == (False, "decided earlier")


def test_seed_everything_makes_torch_repeatable():
    import torch

    tu.seed_everything(123)
    first = torch.rand(5)
    tu.seed_everything(123)
    assert torch.equal(first, torch.rand(5))


def test_output_dir_is_under_outputs_and_movable(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTORIAL_OUTPUT_DIR", raising=False)
    folder = tu.output_dir("99_test")
    assert folder.parent.name == "outputs" and folder.is_dir()
    folder.rmdir()
    monkeypatch.setenv("TUTORIAL_OUTPUT_DIR", str(tmp_path))
    assert tu.output_dir("99_test") == tmp_path / "99_test"
    assert tu.output_dir("99_test", tmp_path / "x") == tmp_path / "x"


def test_environment_report_has_the_facts_lesson_00_shows():
    report = tu.environment_report()
    for key in (
        "python",
        "torch",
        "transformers",
        "datasets",
        "device",
        "hub",
        "hub reason",
        "HF_ENDPOINT",
        "tutorial cache (built models)",
    ):
        assert key in report
    assert report["hub"] == "offline"
    assert report["torch"].startswith("2.13.0")


def test_setup_prints_one_line(capsys):
    tu.setup(seed=0)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "torch" in lines[0] and "hub offline" in lines[0]


def test_cli_doctor_reports_and_passes():
    result = subprocess.run(
        [sys.executable, "-m", "tutorial_utils", "doctor"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SHA-256" in result.stdout and "PROBLEM" not in result.stdout


class _FakeHub:
    """A local HTTP server answering the Hub's model API (or not), for the online path."""

    def __init__(self, answer_as_hub: bool, delay: float = 0.0):
        import http.server
        import threading

        hub = answer_as_hub

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                time.sleep(delay)  # a slow mirror
                body = b'{"id": "bert-base-uncased"}' if hub else b"<html>portal</html>"
                self.send_response(200 if hub else 404)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _status_from(hub: _FakeHub, monkeypatch) -> tuple[bool, str]:
    """``tu.hub_status()`` with ``HF_ENDPOINT`` at ``hub``; offline again afterwards."""
    try:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
        monkeypatch.setattr(hub_mode, "_decision", None)
        return tu.hub_status()
    finally:
        hub.close()
        os.environ["HF_HUB_OFFLINE"] = "1"
        hub_mode._decision = None


@pytest.mark.parametrize("answer_as_hub", [True, False])
def test_only_a_hub_answer_counts_as_online(monkeypatch, answer_as_hub):
    hub = _FakeHub(answer_as_hub)
    reachable, reason = _status_from(hub, monkeypatch)
    assert reachable is answer_as_hub
    assert hub.url in reason


def test_cli_prepare_builds_or_verifies_every_offline_asset():
    result = subprocess.run(
        [sys.executable, "-m", "tutorial_utils", "prepare", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for asset in ("encoder", "generator", "movie reviews", "sentiment", "fill-mask"):
        assert f"done  {asset}" in result.stdout, result.stdout


@pytest.mark.parametrize("timeout, online", [(None, False), ("6", True)])
def test_a_slow_mirror_is_online_with_a_longer_hub_timeout(monkeypatch, timeout, online):
    hub = _FakeHub(True, delay=2.5)  # answers after the default 1.8 s budget
    if timeout is None:
        monkeypatch.delenv("TUTORIAL_HUB_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("TUTORIAL_HUB_TIMEOUT", timeout)
    reachable, reason = _status_from(hub, monkeypatch)
    assert reachable is online, reason
    assert hub.url in reason


@pytest.mark.parametrize("value", ["ten", "0", "-3", "500"])
def test_a_bad_hub_timeout_says_what_to_give(monkeypatch, value):
    monkeypatch.setenv("TUTORIAL_HUB_TIMEOUT", value)
    with pytest.raises(ValueError, match="TUTORIAL_HUB_TIMEOUT=.*a number from 0 to 120"):
        hub_mode.hub_timeout()
    monkeypatch.setenv("TUTORIAL_HUB_TIMEOUT", " ")
    assert hub_mode.hub_timeout() == hub_mode.DECISION_BUDGET
