"""``python -m workbench.cli`` is the ``workbench`` command too."""

from workbench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
