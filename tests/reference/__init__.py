"""Independent NumPy references, in float64, written from the papers and their official code, never from
kerasloss: formulas (the per-example losses, contrastive and triplet, finite differences), metric (multi-similarity,
lifted structure, soft nearest neighbour), proxies (ArcFace, CosFace, proxy anchor, proxy NCA), quantile_ordinal,
self_supervised and imbalance (the long-tail and multi-label losses)."""
