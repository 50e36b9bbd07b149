"""``python -m deploy.fakes gitlab jira``: the demo's fake backends in a process of their own.

The replicas of a local cluster share one set of upstream systems, as real
replicas would; here those are the demo's fakes (demo/backends.py). This
process starts them, prints the portal's ``servers`` entries for them as one
JSON line, and serves until its stdin closes (the launcher's end) or SIGTERM.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from demo.backends import running_backends, server_entry

# Prometheus answers queries once ready; waiting for its first scrapes would cost seconds.
OPTIONS = {"prometheus": {"wait_for_scrape": False}}


def _until_stdin_closes(done: threading.Event) -> None:
    sys.stdin.read()
    done.set()


def main(names: list[str]) -> int:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with running_backends(names, OPTIONS) as running:
        print(json.dumps([server_entry(name, backend) for name, backend in running.items()]), flush=True)
        threading.Thread(target=_until_stdin_closes, args=(done,), daemon=True).start()
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
