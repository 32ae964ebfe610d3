"""Third-party wheels for a Lambda zip, for the function's runtime and architecture, without Docker.

pip can install binary wheels for another platform (``--platform``, ``--python-version``,
``--implementation``, ``--only-binary=:all:``; https://pip.pypa.io/en/stable/cli/pip_install/), which is all a
pure-wheel dependency such as orjson needs: the manylinux2014 aarch64 wheel is what runs on Lambda's arm64
Amazon Linux. Hashes are required, so a deploy installs exactly the reviewed files. Installs are cached under
``.build/`` by what determines them, so the program (and its tests) pay the download once per machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.settings import PROJECT_ROOT

CACHE_ROOT = PROJECT_ROOT / ".build" / "lambda-deps"
REQUIREMENTS_FILE = "requirements.txt"
# Lambda's architecture names -> the machine part of a manylinux platform tag.
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
# The oldest manylinux the wheels need: glibc 2.17, below Amazon Linux 2023's 2.34.
MANYLINUX = "manylinux2014"


class BundleError(RuntimeError):
    """The dependencies could not be installed for the Lambda's platform."""


def platform_tag(architecture: str) -> str:
    if architecture not in MACHINES:
        raise BundleError(f"no wheel platform for Lambda architecture {architecture!r}")
    return f"{MANYLINUX}_{MACHINES[architecture]}"


def python_version(runtime: str) -> str:
    """``python3.13`` -> ``3.13``."""
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if not match:
        raise BundleError(f"not a Python Lambda runtime: {runtime!r}")
    return match.group(1)


def requirements_of(package_dir: Path) -> Path | None:
    path = package_dir / REQUIREMENTS_FILE
    return path if path.is_file() else None


def installed(requirements: Path, *, runtime: str, architecture: str, cache: Path = CACHE_ROOT) -> Path:
    """The folder holding ``requirements`` installed for ``runtime`` on ``architecture`` (cached)."""
    platform, version = platform_tag(architecture), python_version(runtime)
    digest = hashlib.sha256(requirements.read_bytes() + f"|{platform}|{version}".encode()).hexdigest()[:16]
    target = cache / f"{platform}-cp{version.replace('.', '')}-{digest}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-compile", "--only-binary=:all:", "--require-hashes",
        "--platform", platform, "--implementation", "cp", "--python-version", version,
        "--target", str(staging), "-r", str(requirements),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleError(
            f"pip could not install {requirements} for {platform} / Python {version}:\n{done.stderr.strip()}"
        )
    try:
        os.replace(staging, target)  # atomic: a half-written folder is never taken for a cached one
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def bundled_files(folder: Path) -> dict[str, Path]:
    """Zip path -> file for everything pip installed, but its console scripts and caches."""
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.relative_to(folder).parts[0] != "bin"
    }
