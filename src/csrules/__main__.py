"""Allows ``python -m csrules``."""

from csrules.cli.main import main

if __name__ == "__main__":
    main()
