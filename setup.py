"""The transform's C hot path for this machine, beside pyproject.toml (which holds everything else).

``pip install -e .`` (the Makefile's set-up) builds each ``transform_lambda/*.c`` as an abi3 extension with
the host's compiler and, being editable, copies it into the source tree
(``transform_lambda/_hotpath.abi3.so``, git-ignored), where the tests, the local runner and the benches import
it from the repository root. Without a C source there is no extension and the transform runs its pure-Python
path. The Lambda zip's copy is cross-compiled for the function's architecture by ``infra/native_build.py``
with the same defines.
"""

from pathlib import Path

from setuptools import Extension, setup

LIMITED_API = "0x030B0000"  # as infra/native_build.py: Python 3.11's stable ABI

setup(
    ext_modules=[
        Extension(
            f"transform_lambda.{source.stem}",
            [source.as_posix()],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", LIMITED_API)],
            extra_compile_args=["-O2"],
        )
        for source in sorted(Path("transform_lambda").glob("*.c"))
    ]
)
