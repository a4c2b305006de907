"""sectorlink: a cross-sector data hub for community health.

Partners' extracts are mapped to one common data model, loaded atomically into a DuckDB
warehouse, linked into one person index, and turned into the analyses regional
collaboratives run. Everything the CLI and the web app do is a function here first.
"""

__version__ = "0.1.0"
