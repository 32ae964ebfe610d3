"""The whole suite's Hypothesis profile: no run fails because the machine is slow.

A loaded machine (CI, or a laptop doing something else) can take 500 ms for an example that takes 20 ms alone,
so no deadline and no ``too_slow`` health check: only a wrong answer fails a test. ``print_blob`` prints the
failing example's blob, so a real failure reproduces with ``@reproduce_failure``.

A test's own ``@settings(suppress_health_check=[...])`` replaces this profile's list, so it must name
``HealthCheck.too_slow`` too; tests/project/test_deterministic_tests.py checks that and that no test sets a
deadline. ``pytest --hypothesis-profile NAME`` still picks another profile for one run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = "eventlake"
CI_PROFILE = "eventlake-ci"

settings.register_profile(
    PROFILE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# Derandomized in CI only (CI never goes red on a new draw); local runs stay random to keep finding real bugs.
settings.register_profile(CI_PROFILE, settings.get_profile(PROFILE), derandomize=True, database=None)

settings.load_profile(CI_PROFILE if os.environ.get("CI", "").lower() not in ("", "0", "false") else PROFILE)
