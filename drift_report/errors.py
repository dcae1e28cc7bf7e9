"""The one error the report raises for bad input: its message is one line that names the file and column."""
from __future__ import annotations


class BadInput(ValueError):
    """Input the report cannot judge (the CLI prints the message and exits 2)."""
