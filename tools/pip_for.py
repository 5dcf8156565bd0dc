"""Run pip for another computer: ``python -m tools.pip_for TAG X.Y download ...``.

``pip download --platform TAG --python-version X.Y`` picks wheels for another computer but
evaluates the environment markers of the requirements on this one (pip documents that
``--platform`` changes only the wheel tags). Made on Linux, a Windows pack would then carry
torch's Linux-only CUDA requirements (``nvidia-...; platform_system == "Linux"``) and miss
the Windows-only ones (``colorama; sys_platform == "win32"``, ``pywinpty; os_name == "nt"``).
This runs pip with the markers answered for the target computer instead, and adds
``--platform TAG --python-version X.Y --prefer-binary`` to the pip command. It lets pip
take a source archive where a package has no wheel at all (``snownlp``): the pack then
builds it into a wheel and refuses it unless that wheel is pure Python. It patches two
functions of pip's internals (pip 23 to 25 keep them the same); only ``pack --platform``
uses it, on the teacher's machine.
"""

from __future__ import annotations

import re
import sys

from tools.classroom import system_of

_SYSTEMS = {
    "windows": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows"},
    "macos": {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin"},
    "linux": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux"},
}
_MACHINE_NAMES = {  # platform.machine() on each system
    ("windows", "x86_64"): "AMD64",
    ("windows", "arm64"): "ARM64",
    ("linux", "arm64"): "aarch64",
}


def marker_environment(tag: str, python: str) -> dict[str, str]:
    """The values of the environment markers (PEP 508) on a computer of wheel tag ``tag``."""
    family, machine = system_of(tag)
    if family not in _SYSTEMS:
        raise ValueError(f"unknown platform tag {tag!r}: use win_amd64, macosx_14_0_arm64, ...")
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    full = sys.version.split()[0] if python == here else f"{python}.0"
    return {
        **_SYSTEMS[family],
        "platform_machine": _MACHINE_NAMES.get((family, machine), machine),
        "platform_release": "",
        "platform_version": "",
        "python_version": python,
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
    }


def platform_tags(tag: str) -> list[str]:
    """``tag`` and the older tags its computers also run (pip expands only macOS tags).

    ``manylinux_2_28_x86_64`` runs manylinux_2_28 down to manylinux_2_5 wheels, with their
    old names manylinux2014 (2.17), manylinux2010 (2.12) and manylinux1 (2.5).
    """
    match = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", tag)
    if not match:
        return [tag]
    newest, arch = int(match[1]), match[2]
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 4, -1)]
    old = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    return tags + [f"{name}_{arch}" for minor, name in old.items() if minor <= newest]


def main(argv: list[str]) -> int:
    """``TAG X.Y PIP-ARGS...``: pip with the markers of the target and its wheel tags."""
    tag, python, *pip_args = argv
    environment = marker_environment(tag, python)
    from pip._internal.cli import cmdoptions
    from pip._internal.cli.main import main as pip_main
    from pip._internal.models.format_control import FormatControl
    from pip._vendor.packaging import markers

    markers.default_environment = lambda: dict(environment)
    original = cmdoptions.check_dist_restriction

    def sources_allowed(options, check_target: bool = False) -> None:
        # pip refuses source archives with --platform, as it cannot tell whether one builds
        # for the target; the pack builds each into a wheel and keeps it only if it is pure
        # Python (``-none-any``), so the refusal is lifted here; --target is still required
        saved, options.format_control = options.format_control, FormatControl(set(), {":all:"})
        try:
            original(options, check_target)
        finally:
            options.format_control = saved

    cmdoptions.check_dist_restriction = sources_allowed
    target = [f"--platform={name}" for name in platform_tags(tag)]
    target += ["--python-version", python, "--prefer-binary"]
    return pip_main([*pip_args, *target])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
