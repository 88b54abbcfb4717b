"""``python -m emoethics``: the command line."""

from .cli import main

main()
