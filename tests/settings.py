"""Settings for the test run: the production settings, with a key the tests may know.

pytest-django imports this module (pyproject's ``DJANGO_SETTINGS_MODULE``) before any
conftest, so this is the one place to give the test run what production makes mandatory.
The defaults of ``tiendo.settings`` stay those of production: DEBUG off, no key.
``os.environ`` is set (not just the setting) so that commands the tests start in a
subprocess inherit it.
"""

import os

os.environ.setdefault("SECRET_KEY", "tiendo-tests-only-" + "x" * 40)
# a Fernet key for the household register's ID numbers (tiendo.households.crypto)
os.environ.setdefault("PERSONAL_DATA_KEYS", "dGllbmRvLXRlc3RzLW9ubHktcGVyc29uYWwtZGF0YS0=")

from tiendo.settings import *  # noqa: E402, F403
