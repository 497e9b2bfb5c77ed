"""``python -m climmig`` is the same as the ``climmig`` command."""

from climmig.cli import main

main()
