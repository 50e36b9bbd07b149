"""The demo: fake backends for the bundled servers and the launcher behind ``make run``.

Not product code. It is not installed with the portal (pyproject.toml packages only
portal, servers and sandbox) and nothing in ``portal/``, ``servers/`` or ``sandbox/``
imports it (tests/test_demo_apart.py). The demo configures each server as production
does, with a URL and a token in its settings; those just point at a fake here.
"""
