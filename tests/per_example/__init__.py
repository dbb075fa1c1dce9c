"""Tests of kerasloss.per_example, one file per module."""
