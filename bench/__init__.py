"""Benchmarks of the portal: context cost, search, sandbox start-up, execute end to end.

``python -m bench`` runs them all and rewrites ``docs/benchmarks.md``;
``python -m bench --quick`` runs fewer repetitions (used by the test suite).
"""
