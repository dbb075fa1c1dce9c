"""Losses with one value per example computed from that example's own target: regression (MSE, MAE, Huber),
classification (cross-entropies, hinge, cost-sensitive), focal, distillation (KL, Hinton's), quantile
(pinball), ordinal (weighted kappa) and multi-task, with the layer that learns the task weights."""
