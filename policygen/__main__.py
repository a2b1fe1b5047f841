"""Allows `python -m policygen`."""

from policygen.console import console

console()
