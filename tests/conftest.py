"""Test-suite wide settings.

The compile cache (replica/compile/cache.py) goes to a temporary directory of
this test session, never to the user's cache; subprocesses started by the
tests inherit it through the environment.
"""

import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="replica-test-cache-")
os.environ["REPLICA_CACHE_DIR"] = _CACHE


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE, ignore_errors=True)
