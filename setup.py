"""The transform's C hot path for this machine, beside pyproject.toml (which holds everything else).

``pip install -e .`` (the Makefile's set-up) builds each ``transform_lambda/*.c`` as an abi3 extension with
the host's compiler and, being editable, copies it into the source tree
(``transform_lambda/_hotpath.abi3.so``, git-ignored), where the tests, the local runner and the benches import
it from the repository root. Without a C source there is no extension and the transform runs its pure-Python
path. The Lambda zip's copy is cross-compiled for the function's architecture by ``infra/native_build.py``
with the same defines.

A wheel (``pip install .``) also carries the repository's example stacks, ``Pulumi.<stack>.yaml``, as
``infra/stacks/``: the CLI falls back to them when the working directory has no stack file of that name
(``infra.settings.find_stack_file``), so ``eventlake demo`` and ``eventlake sizing --stack prod`` run
anywhere. An editable install reads them from the checkout instead.
"""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

STACKS = "infra/stacks"  # infra.settings.WHEEL_STACKS


class BuildWithStacks(build_py):
    """``build_py`` plus the example stack files, copied into the built ``infra`` package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout's own stacks serve an editable install
        target = Path(self.build_lib) / STACKS
        self.mkpath(str(target))
        for stack in sorted(Path().glob("Pulumi.*.yaml")):
            self.copy_file(str(stack), str(target / stack.name))


LIMITED_API = "0x030B0000"  # as infra/native_build.py: Python 3.11's stable ABI

setup(
    cmdclass={"build_py": BuildWithStacks},
    ext_modules=[
        Extension(
            f"transform_lambda.{source.stem}",
            [source.as_posix()],
            py_limited_api=True,
            define_macros=[("Py_LIMITED_API", LIMITED_API)],
            extra_compile_args=["-O2"],
        )
        for source in sorted(Path("transform_lambda").glob("*.c"))
    ],
)
