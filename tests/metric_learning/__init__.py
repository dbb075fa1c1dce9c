"""Tests of kerasloss.metric_learning, one file per module."""
