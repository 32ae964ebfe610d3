"""A pytest plugin (``-p sanitized_hotpath``): the sanitizer lane's build of the compiled path stands in for
the in-place one, from ``HOTPATH_SANITIZED`` (a path to the ``.so``), before anything imports
``transform_lambda.events``. The in-place build that other processes of the tree use stays untouched."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

_path = os.environ["HOTPATH_SANITIZED"]
_spec = importlib.util.spec_from_loader(
    "transform_lambda._hotpath", importlib.machinery.ExtensionFileLoader("transform_lambda._hotpath", _path)
)
assert _spec is not None and _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
sys.modules["transform_lambda._hotpath"] = _module
