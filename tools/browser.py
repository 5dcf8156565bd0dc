"""The Chromium that the browser tests drive (Playwright, given its ``executable_path``).

* :func:`find_browser`: ``CHROMIUM_PATH``, then Chromium or Chrome on ``PATH``, then the usual
  install places of this system, then a Chromium that ``playwright install chromium`` downloaded.
* :func:`ensure_browser` (``python dev.py setup``, after the packages are installed): keeps the
  browser found; else, on Debian or Ubuntu as root or with password-less sudo, runs
  ``apt-get install chromium fonts-noto-cjk``; else ``playwright install chromium`` (where the
  network allows); else names the one command to run, now and again when set-up ends.
* :func:`doctor_line`: the browser line of ``doctor``.

Standard library only: ``dev.py`` imports this before the virtual environment exists.
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

APT_PACKAGES = ("chromium", "fonts-noto-cjk")  # the browser, and the fonts Chinese text needs
PATH_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Flags for a closed network: no calls home, no component updates (the tests use them too).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Runner = Callable[..., subprocess.CompletedProcess]
FAILED_TAIL = 20  # lines of a failed install's output shown when its output was kept back


@dataclass
class Found:
    """A browser that can be used, and where it was found."""

    path: str
    source: str  # "CHROMIUM_PATH", "PATH", "usual place" or "Playwright's download"


@dataclass
class Attempt:
    """One way to install a browser: commands run in order, stopping at the first failure."""

    what: str
    commands: list[list[str]]
    env: dict[str, str] = field(default_factory=dict)


def usual_places(system: str, env: Mapping[str, str], home: Path) -> list[Path]:
    """Where Chrome or Chromium installs itself on ``system`` (``platform.system()``)."""
    if system == "Darwin":
        apps = [Path("/Applications"), home / "Applications"]
        names = [
            "Google Chrome.app/Contents/MacOS/Google Chrome",
            "Chromium.app/Contents/MacOS/Chromium",
        ]
        return [folder / name for folder in apps for name in names]
    if system == "Windows":
        bases = [env.get(k) for k in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        names = ["Google/Chrome/Application/chrome.exe", "Chromium/Application/chrome.exe"]
        return [Path(base) / name for base in bases if base for name in names]
    return [
        Path(p)
        for p in (
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
            "/usr/bin/google-chrome-stable",
            "/snap/bin/chromium",
            "/opt/google/chrome/chrome",
        )
    ]


def playwright_folder(system: str, env: Mapping[str, str], home: Path) -> Path:
    """Where ``playwright install`` puts browsers (``PLAYWRIGHT_BROWSERS_PATH`` moves it)."""
    if env.get("PLAYWRIGHT_BROWSERS_PATH", "0") != "0":
        return Path(env["PLAYWRIGHT_BROWSERS_PATH"])
    if system == "Darwin":
        return home / "Library" / "Caches" / "ms-playwright"
    if system == "Windows":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "ms-playwright"
    return Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "ms-playwright"


def playwright_browsers(folder: Path) -> list[Path]:
    """Chromium executables under Playwright's folder, newest revision first."""
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium-*/chrome-win*/chrome.exe",
        "chromium-*/chrome-mac*/*.app/Contents/MacOS/*",
    )
    found = [p for pattern in patterns for p in folder.glob(pattern) if p.is_file()]

    def revision(path: Path) -> int:
        tail = path.relative_to(folder).parts[0].rpartition("-")[2]
        return int(tail) if tail.isdigit() else -1

    return sorted(found, key=revision, reverse=True)


def browser_runs(path: str, run: Runner = subprocess.run) -> bool:
    """Whether ``path --version`` succeeds: Ubuntu's snap stub ``chromium-browser`` does not.

    Windows' chrome.exe opens a window for ``--version`` instead of printing it: not asked there.
    """
    if os.name == "nt":
        return True
    try:
        result = run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def find_browser(
    env: Mapping[str, str] | None = None,
    system: str | None = None,
    home: Path | None = None,
    which: Callable[[str], str | None] = shutil.which,
    runs: Callable[[str], bool] = browser_runs,
    places: list[Path] | None = None,
) -> Found | None:
    """The first usable Chromium or Chrome, or None (see the module docstring for the order).

    ``places`` replaces :func:`usual_places` (the tests give their own).
    """
    env = os.environ if env is None else env
    system = system or platform.system()
    home = home or Path.home()
    if env.get("CHROMIUM_PATH"):  # an explicit choice is used as given, or fails in the test
        return Found(env["CHROMIUM_PATH"], "CHROMIUM_PATH")
    candidates: list[tuple[str, str]] = []
    for name in PATH_NAMES:
        hit = which(name)
        if hit:
            candidates.append((hit, "PATH"))
    places = usual_places(system, env, home) if places is None else places
    candidates += [(str(p), "usual place") for p in places if p.is_file()]
    folder = playwright_folder(system, env, home)
    candidates += [(str(p), "Playwright's download") for p in playwright_browsers(folder)]
    seen: set[str] = set()
    for path, source in candidates:
        if path not in seen and runs(path):
            return Found(path, source)
        seen.add(path)
    return None


def linux_ids(os_release: Path = Path("/etc/os-release")) -> set[str]:
    """The distribution and its parents (``ID`` and ``ID_LIKE`` of os-release), lower case."""
    try:
        text = os_release.read_text(encoding="utf-8")
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in {"ID", "ID_LIKE"}:
            ids.update(value.strip().strip("\"'").lower().split())
    return ids


def debian_like(ids: set[str]) -> bool:
    """Debian, Ubuntu or a derivative: apt-get installs packages."""
    return bool(ids & {"debian", "ubuntu"})


def is_root() -> bool:
    """Whether this process runs as root (never on Windows, which has no ``geteuid``)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def sudo_without_password(
    which: Callable[[str], str | None] = shutil.which, run: Runner = subprocess.run
) -> bool:
    """Whether ``sudo`` runs without asking for a password (CI runners); it never prompts."""
    if not which("sudo"):
        return False
    try:
        return run(["sudo", "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def apt_prefix(
    system: str,
    debian: bool,
    root: bool,
    sudo_ok: bool,
    which: Callable[[str], str | None] = shutil.which,
) -> list[str] | None:
    """What goes before ``apt-get`` here ([] as root, sudo -n), or None where apt is not usable."""
    if system != "Linux" or not debian or not which("apt-get"):
        return None
    if root:
        return []
    return ["sudo", "-n"] if sudo_ok else None


def apt_attempt(prefix: list[str], packages: tuple[str, ...] = APT_PACKAGES) -> Attempt:
    """``apt-get update`` then ``apt-get install -y`` of ``packages``, non-interactive."""
    return Attempt(
        f"apt-get install {' '.join(packages)}",
        [
            [*prefix, "apt-get", "update", "-qq"],
            [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        ],
        {"DEBIAN_FRONTEND": "noninteractive"},
    )


def install_attempts(venv_python: Path | str, prefix: list[str] | None) -> list[Attempt]:
    """The ways to install a browser here, in the order they are tried."""
    attempts = [apt_attempt(prefix)] if prefix is not None else []
    attempts.append(
        Attempt(
            "playwright install chromium (a download from Playwright's servers)",
            [[str(venv_python), "-m", "playwright", "install", "chromium"]],
        )
    )
    return attempts


def manual_command(
    system: str, ids: set[str], apt_tried: bool, venv_python: str, root: bool = False
) -> str:
    """The one command a person runs when set-up could not install a browser.

    Debian packages Chromium; Ubuntu's ``chromium`` is a snap, so there Playwright's is named.
    """
    if system == "Linux" and debian_like(ids) and "ubuntu" not in ids and not apt_tried:
        return f"{'' if root else 'sudo '}apt-get install {' '.join(APT_PACKAGES)}"
    extra = " --with-deps" if system == "Linux" else ""  # and the libraries Chromium needs
    return f"{venv_python} -m playwright install{extra} chromium"


def cjk_font_installed(
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = subprocess.run,
    font_dirs: tuple[Path, ...] = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")),
) -> bool:
    """Whether a font with Chinese characters is installed (Linux: fontconfig, else the folders)."""
    if which("fc-list"):
        try:
            listed = run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
            return bool(listed.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    names = ("*CJK*", "*cjk*", "*WenQuanYi*", "*wqy*")
    return any(any(d.rglob(n)) for d in font_dirs if d.is_dir() for n in names)


def launch_error(venv_python: Path | str, path: str, run: Runner = subprocess.run) -> str:
    """Start the browser headless through Playwright once; '' when it works, else the error."""
    code = (
        "import sys\n"
        "from playwright.sync_api import sync_playwright\n"
        "with sync_playwright() as p:\n"
        "    p.chromium.launch(executable_path=sys.argv[1], headless=True,"
        f" args={LAUNCH_ARGS!r}).close()\n"
    )
    try:
        result = run(
            [str(venv_python), "-c", code, path], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    if result.returncode == 0:
        return ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit code {result.returncode}"


@dataclass
class BrowserSetup:
    """What :func:`ensure_browser` did: the browser (or None), a report, the command to run."""

    found: Found | None
    report: list[str]
    command: str = ""


def run_install(
    command: list[str],
    env: Mapping[str, str],
    run: Runner,
    log: Callable[[str], None],
    quiet: bool,
) -> int:
    """Run one install command; its exit code (-1 when it could not start).

    Quiet, its output is kept back (dpkg prints a few lines per package, hundreds for a
    browser): one line says how it went, and the last lines of the output when it failed.
    """
    log("$ " + " ".join(command))
    started = time.perf_counter()
    try:
        options = {"capture_output": True, "text": True} if quiet else {}
        done = run(command, env={**os.environ, **env}, timeout=1800, **options)
    except (OSError, subprocess.SubprocessError) as error:
        log(f"  failed: {error}")
        return -1
    if quiet:
        seconds = time.perf_counter() - started
        if done.returncode == 0:
            log(f"  done in {seconds:.0f} s")
        else:
            output = f"{done.stdout or ''}{done.stderr or ''}".splitlines()
            log(f"  exit code {done.returncode} after {seconds:.0f} s; its last lines:")
            for line in output[-FAILED_TAIL:]:
                log("  | " + line)
    return done.returncode


def ensure_browser(
    venv_python: Path | str,
    *,
    log: Callable[[str], None] = print,
    run: Runner = subprocess.run,
    find: Callable[[], Found | None] = find_browser,
    system: str | None = None,
    ids: set[str] | None = None,
    prefix: list[str] | None | str = "auto",
    fonts_ok: Callable[[], bool] = cjk_font_installed,
    remind_at_exit: bool = True,
    quiet: bool | None = None,
) -> BrowserSetup:
    """Make a browser available for the browser tests; log what happened (see module doc).

    ``prefix`` is what goes before apt-get (None: apt-get is not used); "auto" works it out
    (root, or sudo -n on Debian or Ubuntu). When no browser can be had, the command to run
    is logged, and again when the process exits. ``quiet`` (default: when the output is not
    a terminal, as in CI or a log file) keeps the installers' output back, one line per
    command, and shows its end only when a command fails.
    """
    if quiet is None:
        quiet = not sys.stdout.isatty()
    system = system or platform.system()
    ids = linux_ids() if ids is None else ids
    if prefix == "auto":
        prefix = apt_prefix(system, debian_like(ids), is_root(), sudo_without_password())
    assert prefix is None or isinstance(prefix, list)
    report: list[str] = []
    found = find()
    if found is None:
        for attempt in install_attempts(venv_python, prefix):
            log(f"No Chromium or Chrome found for the browser tests: {attempt.what}")
            for command in attempt.commands:
                code = run_install(command, attempt.env, run, log, quiet)
                if code != 0:
                    report.append(f"{attempt.what}: failed (exit code {code})")
                    break
            found = find()
            if found is not None:
                break
    elif system == "Linux" and prefix is not None and not fonts_ok():
        attempt = apt_attempt(prefix, ("fonts-noto-cjk",))
        log(f"No font with Chinese characters: {attempt.what}")
        for command in attempt.commands:
            if run_install(command, attempt.env, run, log, quiet) != 0:
                report.append("fonts-noto-cjk: apt-get failed")
                break
    if found is not None:
        error = launch_error(venv_python, found.path, run)
        state = "starts headless" if not error else f"does NOT start: {error}"
        report.append(f"Browser for the browser tests: {found.path} ({found.source}), {state}")
        result = BrowserSetup(found, report)
    else:
        command = manual_command(system, ids, prefix is not None, str(venv_python))
        report.append(
            "No browser for the browser tests (`python dev.py test` fails without one). "
            f"Run: {command}   (or set CHROMIUM_PATH to a Chromium or Chrome)"
        )
        result = BrowserSetup(None, report, command)
    for line in report:
        log(line)
    if result.command and remind_at_exit:
        atexit.register(log, report[-1])  # the last lines of set-up name it again
    return result


def doctor_line() -> str:
    """One line for ``doctor``: the browser the tests will use and its version, or what to run."""
    found = find_browser()
    if found is None:
        system = platform.system()
        python = r".venv\Scripts\python" if system == "Windows" else ".venv/bin/python"
        command = manual_command(system, linux_ids(), False, python, is_root())
        return f"none found (the browser tests fail): run {command}"
    version = ""
    if os.name != "nt":
        try:
            out = subprocess.run([found.path, "--version"], capture_output=True, text=True)
            version = f", {out.stdout.strip()}" if out.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            pass
    fonts = ""
    if platform.system() == "Linux":
        fonts = ", Chinese fonts " + ("installed" if cjk_font_installed() else "MISSING")
    return f"{found.path} ({found.source}{version}){fonts}"


if __name__ == "__main__":
    print(doctor_line())
