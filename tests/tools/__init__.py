"""Tests of kerasloss.tools, one file per module."""
