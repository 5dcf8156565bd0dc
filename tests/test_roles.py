"""The one registry of roles (tutorial_utils.roles): every role is prepared, packed, listed,
cached and has an offline folder (or says it has none), and a role missing from any of them
fails the check.

Nothing is built here: ``prepare`` runs with every source's ``folder`` recorded instead of
called, ``cache --export`` with the archive writer recorded, the cache is a private one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import tutorial_utils as tu
from tutorial_utils import __main__ as cli
from tutorial_utils import cache, cache_archive, loading, roles
from tutorial_utils.offline_models import minilm
from tutorial_utils.offline_models.sources import Built, NoOffline, Packaged

VIEWS = ("prepared", "packed", "listed", "cached", "offline folder")


def _observe(monkeypatch, tmp_path: Path) -> dict[str, set[str]]:
    """Which roles each command actually covers, found by running it (nothing is built)."""
    asked: list[object] = []

    def record(source, progress=True):
        asked.append(source)
        return tmp_path

    for kind in (Packaged, Built):
        monkeypatch.setattr(kind, "folder", record)
    monkeypatch.setattr(roles, "DATA", (("movie reviews (verify package)", lambda: tmp_path),))
    assert cli._prepare(argparse.Namespace(no_progress=True)) == 0
    prepared = {r.name for r in roles.ROLES.values() if any(s is r.offline for s in asked)}

    packed_names: list[str] = []

    def export(archive, names, log=print):
        packed_names.extend(names)
        Path(archive).write_bytes(b"")
        return list(names)

    monkeypatch.setattr(cache_archive, "export_cache", export)
    assert cli._export(tmp_path / "pack.tar", None) == 0
    packed = {r.name for r in roles.ROLES.values() if r.offline.entry in packed_names}

    listed = {row["role"] for row in tu.roles_table()}
    rows = cache.cache_summary(roles.recipe_versions())
    cached = {r.name for r in roles.ROLES.values() if r.offline.entry in {x["entry"] for x in rows}}
    folders = set(roles.offline_folders())
    return {
        "prepared": prepared,
        "packed": packed,
        "listed": listed,
        "cached": cached,
        "offline folder": folders,
    }


def gaps(views: dict[str, set[str]]) -> list[str]:
    """Each role missing from a view that must hold it (a role without an offline model
    needs none but the listing; a packaged one is in no cache and no pack)."""
    problems = []
    for role in roles.ROLES.values():
        kind = role.offline.kind
        needed = {"listed"}
        if kind != "none":
            needed |= {"prepared", "offline folder"}
        if role.offline.entry is not None:
            needed |= {"packed", "cached"}
        missing = [v for v in VIEWS if v in needed and role.name not in views[v]]
        problems += [f"{role.name}: not {view}" for view in missing]
    return problems


@pytest.fixture
def observed(monkeypatch, tmp_path, private_cache):
    return lambda: _observe(monkeypatch, tmp_path)


def test_every_role_is_prepared_packed_listed_cached_and_has_an_offline_folder(observed):
    views = observed()
    assert gaps(views) == []
    assert views["listed"] == set(roles.ROLES) == set(tu.ROLES)
    built = {"generator", "chat", "sentiment", "fill-mask"}
    assert built <= views["packed"] and not {"encoder", "embedder"} & views["packed"]


def _tiny_build(folder: Path, progress: bool = True) -> dict:
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}), encoding="utf-8")
    return {"steps": 1}


PLANTED = roles.Role(
    "planted",
    "org/planted-model",
    Built("a planted model", "planted-entry", "planted-v1", _tiny_build, "a planted model"),
    "fill-mask",
    "AutoModelForMaskedLM",
    "a role planted by the test",
)


@pytest.mark.parametrize("dropped", VIEWS)
def test_a_planted_role_is_covered_and_its_absence_from_any_view_fails(
    observed, monkeypatch, dropped
):
    monkeypatch.setitem(roles.ROLES, PLANTED.name, PLANTED)  # one declaration
    views = observed()
    assert gaps(views) == [], "a declared role reaches every view by itself"
    assert all("planted" in views[view] for view in VIEWS)
    views[dropped].discard("planted")  # as if that view were still kept by hand
    assert gaps(views) == [f"planted: not {dropped}"]


def test_a_packaged_role_is_one_declaration(observed, monkeypatch):
    role = roles.Role("reader", "org/reader", minilm.SOURCE, "feature-extraction", "AutoModel", "x")
    monkeypatch.setitem(roles.ROLES, role.name, role)
    views = observed()
    assert gaps(views) == []
    assert "reader" in views["prepared"] and "reader" not in views["packed"]
    steps = [s for s in roles.prepare_steps() if "reader" in s.roles]
    assert len(steps) == 1 and steps[0].roles[:2] == ("encoder", "embedder")
    assert steps[0].roles[-1] == "reader"  # the same packaged source, verified once


def test_a_role_without_offline_model_names_its_online_model(monkeypatch, capsys, observed):
    role = roles.Role(
        "zh-fill-mask-test",
        "bert-base-chinese",
        NoOffline("masked-LM pretraining from scratch does not pay on a CPU budget"),
        "fill-mask",
        "AutoModelForMaskedLM",
        "predict a masked character",
    )
    monkeypatch.setitem(roles.ROLES, role.name, role)
    views = observed()
    assert gaps(views) == []
    out = capsys.readouterr().out
    assert "none  zh-fill-mask-test: none offline (masked-LM" in out and "bert-base-chinese" in out
    row = next(r for r in tu.roles_table() if r["role"] == role.name)
    assert row["online"] == "bert-base-chinese" and row["offline"].startswith("none offline")
    monkeypatch.setattr(loading, "hub_status", lambda: (False, "test: offline"))
    with pytest.raises(loading.NoOfflineModelError) as error:
        tu.checkpoint(role.name)
    message = str(error.value)
    assert "'bert-base-chinese'" in message and "does not pay" in message
    monkeypatch.setattr(loading, "hub_status", lambda: (True, "test: online"))
    assert tu.checkpoint(role.name) == "bert-base-chinese"


def test_prepare_steps_name_their_roles_and_each_source_once():
    steps = roles.prepare_steps()
    names = [s.name for s in steps]
    assert names[0] == "movie reviews (verify package)"
    served = [r for s in steps for r in s.roles]
    assert sorted(served) == sorted(
        r.name for r in roles.ROLES.values() if r.offline.kind != "none"
    )
    assert len(served) == len(set(served)), "a role in two steps"
    by_role = {r: s for s in steps for r in s.roles}
    assert by_role["encoder"] is by_role["embedder"] and by_role["generator"] is by_role["chat"]
    assert by_role["sentiment"].name.startswith("sentiment: train once, ")
    assert by_role["generator"].name.startswith("generator / chat / zh-chat: convert once, SmolLM2")
    assert by_role["zh-sentiment"] is by_role["zh-encoder"]  # one built Chinese BERT, two roles


def test_recipe_versions_are_the_built_models_and_unchanged():
    assert roles.recipe_versions() == {
        "smollm2-135m-instruct": "smollm2-dequantised-v1",
        "sentiment-minilm-rotten-tomatoes": "sentiment-v2",
        "fill-mask-minilm-imdb": "fill-mask-v4",
        "zh-sentiment-char-bert": "zh-sentiment-v2",
        "zh-ner-char-bert": "zh-ner-v2",
    }
    built = {"sentiment", "fill-mask", "zh-sentiment", "zh-encoder", "zh-ner"}
    assert set(roles.built_models()) == built
    assert roles.pack_entries() == list(roles.recipe_versions())


def test_the_registry_refuses_a_role_declared_twice_or_an_entry_shared():
    with pytest.raises(ValueError, match="declared twice"):
        roles._registry(PLANTED, PLANTED)
    twin = Built("another", "planted-entry", "v9", _tiny_build, "another")
    other = roles.Role("other", "org/o", twin, "fill-mask", "AutoModel", "x")
    with pytest.raises(ValueError, match="share the cache entry 'planted-entry'"):
        roles._registry(PLANTED, other)


def test_cache_lists_a_registry_entry_that_is_missing(private_cache, capsys):
    rows = {r["entry"]: r["state"] for r in cache.cache_summary(roles.recipe_versions())}
    assert set(rows) == set(roles.pack_entries())
    assert all(state == cache.MISSING for state in rows.values())
    assert cli.main(["cache"]) == 0
    out = capsys.readouterr().out
    assert out.count("missing (`python -m tutorial_utils prepare` builds it)") == len(rows)


def test_export_refuses_a_pack_without_a_registry_model(private_cache, tmp_path, capsys):
    assert cli.main(["cache", "--export", str(tmp_path / "pack.tar")]) == 1
    error = capsys.readouterr().err
    assert "smollm2-135m-instruct" in error and "prepare" in error
    assert not (tmp_path / "pack.tar").exists()
