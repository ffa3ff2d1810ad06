"""Shared by every test folder: pytest puts this folder on sys.path (it has no __init__.py), so
the helpers beside this file (micromind_reference, synthetic_images) import by name."""

import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the dev extra installs it; without it tests/fuzz skips
    settings = None

# Property-based tests (tests/fuzz): a bounded number of examples in CI, more on request.
# Select with HYPOTHESIS_PROFILE=ci|dev|long; CI=true selects ci, else dev.
if settings is not None:
    _COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
    settings.register_profile("ci", max_examples=15, derandomize=True, database=None, **_COMMON)
    settings.register_profile("dev", max_examples=40, **_COMMON)
    settings.register_profile("long", max_examples=500, **_COMMON)
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE")
        or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")
    )
