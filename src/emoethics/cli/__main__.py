"""``python -m emoethics.cli``: the command line."""

from . import main

main()
