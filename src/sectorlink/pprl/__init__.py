"""Privacy-preserving record linkage: identifiers never leave the partner.

The partner side (:mod:`sectorlink.pprl.encode`) maps an extract with the same spec and
standardises it with the same function as plain ingest, then encodes identifiers as keyed
Bloom filters and keyed exact tokens (:mod:`sectorlink.pprl.bloom`, with the compiled
Dice kernel over them in :mod:`sectorlink.pprl.dice`); :mod:`sectorlink.pprl.load` checks
and loads the files at the hub. The hub links them with the ``bloom`` engine
(:mod:`sectorlink.linkage.engines.bloom`) through the one ``sectorlink.linkage.link``.
"""
