"""The bloom engine: the hub's side of privacy-preserving linkage (encodings only).

The partners' side (keys, schema, tokens, filters, encoding, loading the files) is
:mod:`sectorlink.pprl`; this package blocks, compares, trains and scores the encodings.
"""

from sectorlink.linkage.engines.bloom.engine import BloomEngine

__all__ = ["BloomEngine"]
