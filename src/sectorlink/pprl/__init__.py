"""Privacy-preserving record linkage: identifiers never leave the partner.

The partner side (:mod:`sectorlink.pprl.encode`) maps an extract with the same spec and
standardises it with the same function as plain ingest, then encodes identifiers as keyed
Bloom filters and keyed exact tokens. The hub side (:mod:`sectorlink.pprl.hub`) links the
encodings with a compiled Dice kernel (:mod:`sectorlink.pprl.dice`), probabilistic
scoring, and the same clustering and stable person keys as the plain engine.
"""
