"""Mobility models: event displacement and origin-destination migration (PyMC), fitting and diagnostics."""
