"""``python -m demo``: the fakes and the portal against them (demo/launcher.py)."""

from demo.launcher import main

if __name__ == "__main__":
    main()
