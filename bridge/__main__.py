"""``python -m bridge`` does what the ``bridge`` command does."""

from bridge.cli import main

main()
