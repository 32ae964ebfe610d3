"""``python -m benchmarks``: the one entry point of every bench (``benchmarks.transform.main``)."""

import sys

from benchmarks.transform import main

sys.exit(main())
