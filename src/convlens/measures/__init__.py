"""Everything that measures one of the lecture's claims, split by what is measured.

- :mod:`~convlens.measures.feature_maps`: sparsity, dead channels, linear probes;
- :mod:`~convlens.measures.read_out`: what the maps keep of the photo (read-out R^2, edges);
- :mod:`~convlens.measures.patterns`: the own-filter check, rough and flat patterns;
- :mod:`~convlens.measures.heatmaps`: where the evidence lies, randomization and deletion checks;
- :mod:`~convlens.measures.stats`: the one sign test, the one rank correlation, and the verdicts
  the chapters print (:class:`~convlens.measures.stats.Verdict`, with its no-call band and its words).
"""

__all__: list[str] = []
