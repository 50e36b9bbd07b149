"""Escape corpus setup: make the shared payload helpers importable.

The suite runs with `--import-mode=importlib`, which puts no test folder on
`sys.path`; the payload tables in this folder share one small helper module,
`escape_corpus`, so this folder is added here rather than to `tests/support`
(the corpus is meant to stay self-contained in one folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
