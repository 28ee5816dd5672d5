"""Walks (package docstring filled in later)."""
