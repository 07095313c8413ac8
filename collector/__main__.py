"""`python -m collector` runs the command line, exactly like the `collector` script."""

from .cli import main

main()
