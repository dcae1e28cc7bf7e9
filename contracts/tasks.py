"""`drift_client.tasks` under its older name: the module lives in the client's own distribution (drift_client/,
installable alone: docs/design.md, "The publishing client"); the project's code may import it from either name and
gets the same module object."""
import sys

from drift_client import tasks as _module

sys.modules[__name__] = _module
