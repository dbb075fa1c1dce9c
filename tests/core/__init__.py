"""Tests of kerasloss.core, one file per module."""
