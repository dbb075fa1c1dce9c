"""Losses that compare embeddings across the batch or with class proxies, and what they need.

The losses: contrastive (pairs, InfoNCE, NT-Xent, supervised contrastive), triplet, multi-similarity,
lifted structure, soft nearest neighbour, proxies (proxy-NCA, proxy-anchor) and margins (ArcFace, CosFace),
and the self-supervised objectives on two views (Barlow Twins, VICReg, SimSiam). Beside them: pairwise
distances, masks and the opening the pairwise losses share (`pairwise.py`), the learned temperature, a
cross-batch memory, the global batch across replicas, class-balanced batches (`sampling.py`) and retrieval
evaluation."""
