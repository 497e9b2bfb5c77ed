"""climmig: project climate-driven displacement and migration, and compare the policies that could reduce it.

Importing climmig has no side effects: no files are read or written, no log handlers are attached and no
third-party global state is changed.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
