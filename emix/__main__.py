"""``python -m emix``: the ``emix`` command (see :mod:`emix.cli`)."""

from .cli import main

main()
