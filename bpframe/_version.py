"""The version of bpframe (single source: read by pyproject.toml too)."""

__version__ = "0.1.0"
