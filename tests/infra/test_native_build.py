"""The Lambda zip's C extension is cross-compiled for the function's machine: an abi3 AArch64 ELF for the
deployed arm64 function; the same builder aimed at this machine yields a module this interpreter imports;
builds are cached; a source that does not compile fails the build with the compiler's words. The builder is
tested on a small module of its own, so it is tested before (and apart from) the real hot path."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import math
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from infra import native_build
from infra.lambda_bundle import BundleError
from infra.settings import LAMBDA_ARCHITECTURE, PROJECT_ROOT, Settings
from infra.transform_function import LAMBDA_PACKAGE, lambda_contents

HOST_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), "")
ELF_MACHINES = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
MODULE = f"{LAMBDA_PACKAGE}._hotpath"
HOTPATH_SOURCE = PROJECT_ROOT / LAMBDA_PACKAGE / "_hotpath.c"
# A stand-in with the real one's shape: stable ABI only, one function calling libm.
PLACEHOLDER = r"""
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <math.h>

static PyObject *cube_root(PyObject *self, PyObject *arg) {
    double x = PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(cbrt(x));
}

static PyMethodDef methods[] = {{"cube_root", cube_root, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hotpath", NULL, -1, methods};
PyMODINIT_FUNC PyInit__hotpath(void) { return PyModule_Create(&module); }
"""


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and header[4] == 2  # 64-bit
    return int.from_bytes(header[18:20], "little")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Lambda package folder named like the transform's, holding the placeholder source."""
    folder = tmp_path_factory.mktemp("src") / LAMBDA_PACKAGE
    folder.mkdir()
    (folder / "_hotpath.c").write_text(PLACEHOLDER)
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("native-cache")


def test_the_arm64_build_is_an_abi3_aarch64_shared_object(package: Path, cache: Path) -> None:
    files = native_build.native_files(package, architecture="arm64", cache=cache)
    assert list(files) == [f"{LAMBDA_PACKAGE}/_hotpath.abi3.so"]
    built = files[f"{LAMBDA_PACKAGE}/_hotpath.abi3.so"]
    assert built.name.endswith(".abi3.so") and built.is_relative_to(cache)
    assert elf_machine(built) == ELF_MACHINES["arm64"]


@pytest.mark.skipif(not HOST_ARCHITECTURE, reason="no Lambda architecture matches this machine")
def test_the_build_for_this_machine_imports_in_this_interpreter(
    package: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = native_build.compiled(package / "_hotpath.c", architecture=HOST_ARCHITECTURE, cache=cache)
    assert elf_machine(built) == ELF_MACHINES[HOST_ARCHITECTURE]
    # Loaded from a copy under its zip name, as its own module. A single-phase extension registers itself in
    # sys.modules: the real hot path's entry (or its absence) comes back after the test.
    monkeypatch.setitem(sys.modules, MODULE, None)
    copy = tmp_path / "_hotpath.abi3.so"
    copy.write_bytes(built.read_bytes())
    loader = importlib.machinery.ExtensionFileLoader(MODULE, str(copy))
    spec = importlib.util.spec_from_file_location(MODULE, copy, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    assert math.isclose(module.cube_root(27.0), 3.0)


def test_a_build_is_cached(package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiles: list[list[str]] = []
    run = subprocess.run

    def counting(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        compiles.append(command)
        return run(command, **kwargs)

    monkeypatch.setattr(native_build.subprocess, "run", counting)
    first = native_build.compiled(package / "_hotpath.c", architecture="arm64", cache=tmp_path)
    stamp = first.stat().st_mtime_ns
    again = native_build.compiled(package / "_hotpath.c", architecture="arm64", cache=tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp and len(compiles) == 1
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no staging file left behind


def test_a_source_that_does_not_compile_names_the_command_and_the_error(tmp_path: Path) -> None:
    source = tmp_path / "_broken.c"
    source.write_text("#include <Python.h>\nint broken(void) { return undeclared_name; }\n")
    with pytest.raises(BundleError, match=r"(?s)could not compile .*_broken\.c.*ziglang cc.*undeclared_name"):
        native_build.compiled(source, architecture="arm64", cache=tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_the_host_build_the_cross_build_and_the_source_target_one_stable_abi() -> None:
    """setup.py (this machine's build) cannot import infra; the hot path defines the version itself."""
    host = re.search(r'LIMITED_API = "(\w+)"', (PROJECT_ROOT / "setup.py").read_text())
    assert host is not None and host.group(1) == native_build.LIMITED_API
    defined = re.search(r"(?m)^#define Py_LIMITED_API (\w+)", HOTPATH_SOURCE.read_text())
    assert defined is not None and int(defined.group(1), 16) == int(native_build.LIMITED_API, 16)


def test_a_package_without_c_sources_has_no_extension(tmp_path: Path) -> None:
    assert native_build.native_files(tmp_path, architecture="arm64") == {}


def test_the_builder_names_an_architecture_it_cannot_target() -> None:
    with pytest.raises(BundleError, match="no compiler target"):
        native_build.zig_target("sparc")


def test_the_transform_zip_carries_the_hot_path_for_its_architecture() -> None:
    contents = lambda_contents(runtime=Settings(stack="dev").lambda_runtime, architecture=LAMBDA_ARCHITECTURE)
    assert elf_machine(contents[f"{LAMBDA_PACKAGE}/_hotpath.abi3.so"]) == ELF_MACHINES[LAMBDA_ARCHITECTURE]


def test_the_set_up_builds_the_hot_path_in_place() -> None:
    """``pip install -e .`` (setup.py) put this machine's build beside its source, where tests import it."""
    spec = importlib.util.find_spec(MODULE)
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent == HOTPATH_SOURCE.parent and spec.origin.endswith(".abi3.so")


# The branches of Debian's /usr/include/python3.X/pyconfig.h for the two machines (it lists a dozen more).
DEBIAN_PYCONFIG = """#if defined(__linux__)
# if defined(__x86_64__) && defined(__LP64__)
#  include <x86_64-linux-gnu/python3.11/pyconfig.h>
# elif defined(__x86_64__) && defined(__ILP32__)
#  include <x86_64-linux-gnux32/python3.11/pyconfig.h>
# elif defined(__aarch64__) && defined(__AARCH64EL__)
#  include <aarch64-linux-gnu/python3.11/pyconfig.h>
# else
#   error unknown multiarch location for pyconfig.h
# endif
#endif
"""


@pytest.mark.slow
def test_a_debian_system_pythons_split_headers_build_for_both_machines(package: Path, tmp_path: Path) -> None:
    """Debian's and Ubuntu's system Pythons keep pyconfig.h per architecture, beside the other headers; the
    builder shims the target's include to the host's file, where Zig alone finds neither."""
    system = tmp_path / "usr" / "include"
    include = system / "python3.11"
    shutil.copytree(sysconfig.get_path("include"), include)
    real = system / "x86_64-linux-gnu" / "python3.11" / "pyconfig.h"
    real.parent.mkdir(parents=True)
    shutil.move(include / "pyconfig.h", real)
    (include / "pyconfig.h").write_text(DEBIAN_PYCONFIG)
    source = package / "_hotpath.c"

    bare = subprocess.run(
        [sys.executable, "-m", "ziglang", "cc", "-target", native_build.zig_target("arm64"), "-fsyntax-only",
         f"-I{include}", str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bare.returncode != 0 and "aarch64-linux-gnu/python3.11/pyconfig.h" in bare.stderr

    for architecture in ("arm64", "x86_64"):
        built = native_build.compiled(
            source, architecture=architecture, cache=tmp_path / "cache", include=include
        )
        assert elf_machine(built) == ELF_MACHINES[architecture]
        # The same bytes as from the headers in one folder: what the build reads of them is equal.
        plain = native_build.compiled(source, architecture=architecture, cache=tmp_path / "plain")
        assert built.read_bytes() == plain.read_bytes()
