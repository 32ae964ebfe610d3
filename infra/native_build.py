"""A Lambda package's C extension, cross-compiled for the function's architecture, without Docker.

Each ``*.c`` file in a Lambda package is one CPython extension module of the same name (the transform's
``transform_lambda/_hotpath.c``). It uses only the stable ABI (``Py_LIMITED_API`` 3.11, abi3), so one build
serves every runtime from python3.11 on and the host's headers suffice; it needs only libc and libm.
Zig's C compiler (the ``ziglang`` wheel from PyPI, pinned in requirements.lock) targets another architecture
and an old glibc from any machine: ``-target aarch64-linux-gnu.2.17`` links against glibc 2.17's symbols, as
manylinux2014 wheels do, well below Amazon Linux 2023's 2.34, and the output is byte-for-byte reproducible.
Builds are cached under ``.build/`` by what determines them (source, target, compiler version, flags), like
``infra.lambda_bundle``'s wheels, so the program and its tests pay a compile (~10 s cold) once per machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

from infra.lambda_bundle import MACHINES, BundleError
from infra.settings import PROJECT_ROOT

CACHE_ROOT = PROJECT_ROOT / ".build" / "native"
# The oldest glibc the extension may need: manylinux2014's.
GLIBC = "2.17"
LIMITED_API = "0x030B0000"  # Python 3.11: the oldest interpreter the tests run on
ABI3_SUFFIX = ".abi3.so"
FLAGS = ("-O2", "-shared", "-fPIC", "-s", f"-DPy_LIMITED_API={LIMITED_API}")


def zig_target(architecture: str) -> str:
    """Lambda's ``arm64`` -> ``aarch64-linux-gnu.2.17``."""
    if architecture not in MACHINES:
        raise BundleError(f"no compiler target for Lambda architecture {architecture!r}")
    return f"{MACHINES[architecture]}-linux-gnu.{GLIBC}"


def zig_version() -> str:
    try:
        return metadata.version("ziglang")
    except metadata.PackageNotFoundError:
        raise BundleError("ziglang is not installed (pip install -r requirements.lock)") from None


def extension_sources(package_dir: Path) -> list[Path]:
    """The package's C sources, one extension module each; none for a pure-Python package."""
    return sorted(package_dir.glob("*.c"))


# A pyconfig.h that only picks the real one by architecture (Debian's and Ubuntu's system Pythons).
_MULTIARCH_INCLUDE = re.compile(
    r"(?m)^#\s*include <((?P<machine>[\w]+)-linux-gnu[\w]*/python[\d.]+/pyconfig\.h)>"
)


def include_flags(architecture: str, include: Path | None = None, cache: Path = CACHE_ROOT) -> list[str]:
    """``-I`` for the host Python's headers (``include``, by default this interpreter's). A Debian or Ubuntu
    system Python keeps pyconfig.h per architecture: its ``pyconfig.h`` only includes
    ``<x86_64-linux-gnu/python3.11/pyconfig.h>`` (or aarch64's ...) from the system include folder, which Zig
    does not search for another target, and which holds no other architecture's. A shim folder answers the
    target's include with the host's file. The host's values are what an abi3 build reads of it (type sizes
    and alignments, the same on 64-bit little-endian Linux): the transform built from Debian 12's 3.11.2
    headers and from a pyenv 3.11.7's is the same file, byte for byte, for both machines (2026-11-29)."""
    include = include or Path(sysconfig.get_path("include"))
    flags = [f"-I{include}"]
    config = include / "pyconfig.h"
    redirects = (
        list(_MULTIARCH_INCLUDE.finditer(config.read_text(errors="replace"))) if config.is_file() else []
    )
    if not redirects:
        return flags
    system = include.parent  # /usr/include, beside /usr/include/python3.11
    host = next((system / r.group(1) for r in redirects if (system / r.group(1)).is_file()), None)
    wanted = next((r.group(1) for r in redirects if r.group("machine") == MACHINES[architecture]), None)
    if host is None:
        raise BundleError(f"{config} picks its real header by architecture; none of them is under {system}")
    if wanted is None:
        raise BundleError(f"{config} names no header for {MACHINES[architecture]}: cannot shim it to {host}")
    shim = cache / "include" / hashlib.sha256(str(host).encode()).hexdigest()[:12]
    (shim / wanted).parent.mkdir(parents=True, exist_ok=True)
    (shim / wanted).write_text(f'#include "{host}"\n')
    return [*flags, f"-I{shim}"]


def compiled(
    source: Path, *, architecture: str, cache: Path = CACHE_ROOT, include: Path | None = None
) -> Path:
    """The abi3 shared object built from ``source`` for ``architecture`` (cached); ``include``: the Python
    headers (this interpreter's by default)."""
    target, version = zig_target(architecture), zig_version()
    key = b"|".join([source.read_bytes(), target.encode(), version.encode(), " ".join(FLAGS).encode()])
    built = cache / f"{source.stem}-{target}-{hashlib.sha256(key).hexdigest()[:16]}{ABI3_SUFFIX}"
    if built.is_file():
        return built
    cache.mkdir(parents=True, exist_ok=True)
    descriptor, staging = tempfile.mkstemp(prefix=".staging-", suffix=ABI3_SUFFIX, dir=cache)
    os.close(descriptor)
    command = [
        sys.executable, "-m", "ziglang", "cc", "-target", target, *FLAGS,
        *include_flags(architecture, include, cache), "-o", staging, str(source),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        Path(staging).unlink(missing_ok=True)
        raise BundleError(
            f"could not compile {source} for {target} (zig {version}):\n"
            f"$ {' '.join(command)}\n{done.stderr.strip()}"
        )
    os.chmod(staging, 0o755)  # not mkstemp's 0600: the zip keeps the mode, Lambda's user must read it
    os.replace(staging, built)  # atomic: a half-written file is never taken for a cached one
    return built


def native_files(package_dir: Path, *, architecture: str, cache: Path = CACHE_ROOT) -> dict[str, Path]:
    """Zip path (``<package>/<module>.abi3.so``) -> shared object, for each of the package's C sources."""
    return {
        f"{package_dir.name}/{source.stem}{ABI3_SUFFIX}": compiled(
            source, architecture=architecture, cache=cache
        )
        for source in extension_sources(package_dir)
    }
