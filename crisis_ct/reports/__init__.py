"""Cluster products built on the stored scores: the situation snapshot (an A4 page and its
PDF) and early warning (phases that rose, sites that jumped, data about to expire).

Plain domain functions (`history`, `early_warning`, `map_svg`) know nothing of Flask or the
database; `reads` and `task_figures` query; `snapshot` and `warnings` put a product together
for one reader, and what that reader may see is decided by crisis_ct.projection."""
