"""tools.browser: which browser the browser tests use, and what `dev.py setup` does without one.

The decision logic is tested with a fake PATH, fake folders and a recording command runner:
nothing is installed. One test starts the browser found here through Playwright, as the
browser tests do (it fails, never skips, when there is none).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools import browser
from tools.browser import (
    APT_PACKAGES,
    Found,
    apt_prefix,
    debian_like,
    ensure_browser,
    find_browser,
    install_attempts,
    linux_ids,
    manual_command,
    playwright_browsers,
    playwright_folder,
    usual_places,
)

ROOT = Path(__file__).resolve().parents[1]


def _file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    return path


def _nothing_on_path(name: str) -> None:
    return None


def _find(tmp_path: Path, **kwargs) -> Found | None:
    """find_browser with nothing of this machine: an empty PATH, home and usual places."""
    options = {
        "env": {},
        "system": "Linux",
        "home": tmp_path / "home",
        "which": _nothing_on_path,
        "runs": lambda path: True,
        "places": [],
    }
    return find_browser(**{**options, **kwargs})


# --- finding a browser -----------------------------------------------------------------------


def test_chromium_path_wins_over_everything(tmp_path):
    found = _find(tmp_path, env={"CHROMIUM_PATH": "/opt/my/chrome"}, which=lambda n: "/usr/bin/x")
    assert found == Found("/opt/my/chrome", "CHROMIUM_PATH")


def test_path_is_searched_and_a_stub_that_does_not_run_is_passed_over(tmp_path):
    on_path = {"chromium-browser": "/usr/bin/chromium-browser", "google-chrome": "/usr/bin/gc"}
    found = _find(
        tmp_path,
        which=on_path.get,
        runs=lambda path: path != "/usr/bin/chromium-browser",  # Ubuntu's snap stub
    )
    assert found == Found("/usr/bin/gc", "PATH")


def test_nothing_anywhere_means_none(tmp_path):
    assert _find(tmp_path) is None
    assert _find(tmp_path, which=lambda n: "/usr/bin/" + n, runs=lambda p: False) is None


def test_usual_places_on_macos_and_windows(tmp_path):
    home = tmp_path / "home"
    chromium = _file(home / "Applications/Chromium.app/Contents/MacOS/Chromium")
    mac = usual_places("Darwin", {}, home)
    assert (
        chromium in mac
        and Path("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome") in mac
    )
    only_here = {"runs": lambda path: path.startswith(str(tmp_path))}  # not this machine's
    found = _find(tmp_path, system="Darwin", places=None, **only_here)
    assert found == Found(str(chromium), "usual place")

    env = {"PROGRAMFILES": str(tmp_path / "pf"), "LOCALAPPDATA": str(tmp_path / "local")}
    chrome = _file(tmp_path / "local" / "Google/Chrome/Application/chrome.exe")
    windows = usual_places("Windows", env, home)
    assert tmp_path / "pf" / "Google/Chrome/Application/chrome.exe" in windows
    found = _find(tmp_path, system="Windows", env=env, places=None, **only_here)
    assert found == Found(str(chrome), "usual place")


def test_playwrights_download_is_found_newest_first(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    folder = playwright_folder("Linux", env, tmp_path)
    assert folder == tmp_path / "cache" / "ms-playwright"
    old = _file(folder / "chromium-1200/chrome-linux64/chrome")
    new = _file(folder / "chromium-1255/chrome-linux64/chrome")
    _file(
        folder / "chromium_headless_shell-1300/chrome-headless-shell-linux64/chrome-headless-shell"
    )
    assert playwright_browsers(folder) == [new, old]
    assert _find(tmp_path, env=env) == Found(str(new), "Playwright's download")
    # where `playwright install` puts browsers on the other systems, and the override
    assert playwright_folder("Darwin", {}, tmp_path) == tmp_path / "Library/Caches/ms-playwright"
    windows = playwright_folder("Windows", {"LOCALAPPDATA": str(tmp_path / "L")}, tmp_path)
    assert windows == tmp_path / "L" / "ms-playwright"
    moved = playwright_folder("Linux", {"PLAYWRIGHT_BROWSERS_PATH": "/srv/pw"}, tmp_path)
    assert moved == Path("/srv/pw")
    mac = _file(
        tmp_path / "pw/chromium-1255/chrome-mac-arm64/Google Chrome for Testing.app"
        "/Contents/MacOS/Google Chrome for Testing"
    )
    assert playwright_browsers(tmp_path / "pw") == [mac]


# --- the system: distribution, root, sudo -----------------------------------------------------


@pytest.mark.parametrize(
    "text, ids",
    [
        ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', {"debian"}),
        ("ID=ubuntu\nID_LIKE=debian\n", {"ubuntu", "debian"}),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', {"linuxmint", "ubuntu", "debian"}),
        ("ID=fedora\nVERSION_ID=40\n", {"fedora"}),
    ],
)
def test_linux_ids_read_os_release(tmp_path, text, ids):
    (tmp_path / "os-release").write_text(text, encoding="utf-8")
    assert linux_ids(tmp_path / "os-release") == ids
    assert debian_like(ids) == bool(ids & {"debian", "ubuntu"})


def test_no_os_release_is_no_distribution(tmp_path):
    assert linux_ids(tmp_path / "missing") == set()


def test_apt_is_used_as_root_or_with_sudo_on_debian_and_ubuntu_only():
    apt = {"apt-get": "/usr/bin/apt-get"}.get
    assert apt_prefix("Linux", True, root=True, sudo_ok=False, which=apt) == []
    assert apt_prefix("Linux", True, root=False, sudo_ok=True, which=apt) == ["sudo", "-n"]
    assert apt_prefix("Linux", True, root=False, sudo_ok=False, which=apt) is None
    assert apt_prefix("Linux", False, root=True, sudo_ok=True, which=apt) is None  # Fedora
    assert apt_prefix("Linux", True, root=True, sudo_ok=True, which=_nothing_on_path) is None
    assert apt_prefix("Darwin", True, root=True, sudo_ok=True, which=apt) is None


def test_is_root_follows_geteuid_and_windows_has_none(monkeypatch):
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0, raising=False)
    assert browser.is_root()
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000, raising=False)
    assert not browser.is_root()
    monkeypatch.delattr(browser.os, "geteuid", raising=False)
    assert not browser.is_root()


def test_sudo_is_asked_never_to_prompt():
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1)

    assert not browser.sudo_without_password(which=_nothing_on_path, run=run) and not calls
    assert not browser.sudo_without_password(which=lambda n: "/usr/bin/sudo", run=run)
    assert calls == [["sudo", "-n", "true"]]


def test_install_attempts_apt_first_then_playwright():
    apt, playwright = install_attempts("/v/bin/python", ["sudo", "-n"])
    assert apt.commands[0] == ["sudo", "-n", "apt-get", "update", "-qq"]
    assert apt.commands[1][:4] == ["sudo", "-n", "apt-get", "install"]
    assert apt.commands[1][-2:] == list(APT_PACKAGES) == ["chromium", "fonts-noto-cjk"]
    assert apt.env == {"DEBIAN_FRONTEND": "noninteractive"}
    assert playwright.commands == [["/v/bin/python", "-m", "playwright", "install", "chromium"]]
    only = install_attempts("/v/bin/python", None)
    assert [a.commands for a in only] == [playwright.commands]


def test_the_one_command_to_run_fits_the_system():
    debian, ubuntu = {"debian"}, {"ubuntu", "debian"}
    py = ".venv/bin/python"
    assert (
        manual_command("Linux", debian, False, py) == "sudo apt-get install chromium fonts-noto-cjk"
    )
    assert manual_command("Linux", debian, False, py, root=True).startswith("apt-get install")
    # apt-get was tried and failed, or Ubuntu (whose chromium is a snap): Playwright's browser
    assert (
        manual_command("Linux", debian, True, py)
        == f"{py} -m playwright install --with-deps chromium"
    )
    assert (
        manual_command("Linux", ubuntu, False, py)
        == f"{py} -m playwright install --with-deps chromium"
    )
    assert manual_command("Darwin", set(), False, py) == f"{py} -m playwright install chromium"
    windows = r".venv\Scripts\python"
    assert (
        manual_command("Windows", set(), False, windows)
        == rf"{windows} -m playwright install chromium"
    )


# --- ensure_browser: what set-up does -----------------------------------------------------------


class Recorder:
    """A subprocess.run stand-in: records each command, answers with the given exit codes."""

    def __init__(self, codes: dict[str, int] | None = None) -> None:
        self.codes = codes or {}
        self.commands: list[list[str]] = []
        self.envs: list[dict] = []
        self.captured: list[bool] = []  # whether each command's output was kept back

    def __call__(self, command, **kwargs):
        self.commands.append([str(c) for c in command])
        self.envs.append(kwargs.get("env") or {})
        self.captured.append(bool(kwargs.get("capture_output")))
        key = next((k for k in self.codes if k in " ".join(map(str, command))), None)
        return subprocess.CompletedProcess(command, self.codes.get(key, 0), "", "boom\n")

    def installs(self) -> list[list[str]]:
        return [c for c in self.commands if "-c" not in c]  # not the Playwright launch check


def _ensure(run, find, **kwargs):
    lines: list[str] = []
    options = {"system": "Linux", "ids": {"debian"}, "prefix": [], "fonts_ok": lambda: True}
    result = ensure_browser(
        "/v/bin/python",
        log=lines.append,
        run=run,
        find=find,
        remind_at_exit=False,
        **{**options, **kwargs},
    )
    return result, lines


def test_a_browser_already_there_is_kept_and_checked_by_a_launch():
    run = Recorder()
    result, lines = _ensure(run, lambda: Found("/usr/bin/chromium", "PATH"))
    assert result.found == Found("/usr/bin/chromium", "PATH") and not result.command
    assert run.installs() == []  # nothing installed
    assert (
        run.commands[0][:2] == ["/v/bin/python", "-c"]
        and run.commands[0][-1] == "/usr/bin/chromium"
    )
    assert "executable_path" in run.commands[0][2]
    assert "/usr/bin/chromium (PATH), starts headless" in lines[-1]


def test_a_browser_that_does_not_launch_is_reported():
    run = Recorder({"sync_playwright": 1})
    result, lines = _ensure(run, lambda: Found("/usr/bin/chromium", "PATH"))
    assert "does NOT start: boom" in lines[-1]


def test_root_on_debian_installs_chromium_and_cjk_fonts_with_apt():
    run = Recorder()
    answers = iter([None, Found("/usr/bin/chromium", "PATH")])
    result, lines = _ensure(run, lambda: next(answers))
    assert result.found.path == "/usr/bin/chromium"
    assert run.installs() == [
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "fonts-noto-cjk",
        ],
    ]  # and no Playwright download
    assert run.envs[1]["DEBIAN_FRONTEND"] == "noninteractive"


def test_when_apt_fails_playwright_downloads_chromium():
    run = Recorder({"apt-get install": 100})
    answers = iter(
        [None, None, Found("/root/.cache/ms-playwright/chromium-1/c", "Playwright's download")]
    )
    result, lines = _ensure(run, lambda: next(answers), prefix=["sudo", "-n"])
    assert [c[:3] for c in run.installs()] == [
        ["sudo", "-n", "apt-get"],
        ["sudo", "-n", "apt-get"],
        ["/v/bin/python", "-m", "playwright"],
    ]
    assert result.found.source == "Playwright's download"
    assert any(
        "apt-get install chromium fonts-noto-cjk: failed (exit code 100)" in line for line in lines
    )


def test_without_apt_and_network_the_report_names_one_command():
    run = Recorder({"playwright install": 1})
    result, lines = _ensure(run, lambda: None, prefix=None)  # a user without sudo on Debian
    assert run.installs() == [["/v/bin/python", "-m", "playwright", "install", "chromium"]]
    assert result.found is None
    assert result.command == "sudo apt-get install chromium fonts-noto-cjk"
    assert lines[-1].startswith("No browser for the browser tests") and result.command in lines[-1]


def test_in_a_log_file_the_installers_output_is_kept_back_and_shown_when_one_fails():
    run = Recorder({"apt-get install": 100})
    answers = iter([None, None, None])
    _, lines = _ensure(run, lambda: next(answers), prefix=[], quiet=True)
    assert run.captured[:2] == [True, True]  # apt-get update and install
    assert "  done in 0 s" in lines  # apt-get update: one line
    failed = lines.index("  exit code 100 after 0 s; its last lines:")
    assert lines[failed + 1] == "  | boom"  # the failed command's last lines


def test_in_a_terminal_the_installers_print_as_they_go():
    run = Recorder()
    answers = iter([None, Found("/usr/bin/chromium", "PATH")])
    _, lines = _ensure(run, lambda: next(answers), quiet=False)
    assert run.captured[:2] == [False, False]
    assert not any(line.startswith("  done in") for line in lines)


def test_on_macos_nothing_is_tried_with_apt():
    run = Recorder({"playwright install": 1})
    result, _ = _ensure(run, lambda: None, system="Darwin", ids=set(), prefix="auto")
    assert run.installs() == [["/v/bin/python", "-m", "playwright", "install", "chromium"]]
    assert result.command == "/v/bin/python -m playwright install chromium"


def test_missing_cjk_fonts_are_installed_beside_a_browser():
    run = Recorder()
    _ensure(
        run,
        lambda: Found("/usr/bin/google-chrome", "PATH"),
        prefix=["sudo", "-n"],
        fonts_ok=lambda: False,
    )
    assert run.installs()[-1][-1] == "fonts-noto-cjk" and "chromium" not in run.installs()[-1]


def test_the_command_is_named_again_when_set_up_ends(monkeypatch):
    registered = []
    monkeypatch.setattr(browser.atexit, "register", lambda *a: registered.append(a))
    lines: list[str] = []
    ensure_browser(
        "/v/bin/python",
        log=lines.append,
        run=Recorder({"playwright": 1}),
        find=lambda: None,
        system="Darwin",
        ids=set(),
        prefix=None,
    )
    assert registered == [(lines.append, lines[-1])]


def test_dev_setup_calls_ensure_browser_after_installing():
    source = (ROOT / "dev.py").read_text(encoding="utf-8")
    setup = source[source.index("def cmd_setup(") :]
    setup = setup[: setup.index("\ndef ", 1)]
    assert setup.index("install(") < setup.index("ensure_browser(venv_python())")
    assert setup.index("ensure_browser(") < setup.index("    prepare()")  # dev.prepare: the builds


# --- the real thing -------------------------------------------------------------------------


def test_the_browser_found_here_starts_through_playwright():
    """What the browser tests need: fails (never skips) when no browser can be found."""
    import sys

    found = find_browser()
    assert found, f"no browser for the browser tests: {browser.doctor_line()}"
    assert browser.launch_error(sys.executable, found.path) == ""
    assert found.path in browser.doctor_line()
