"""Allows `python -m policygen`."""

from policygen.cli import main

main()
