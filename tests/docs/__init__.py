"""Tests of the documentation site (docs/): its pages, their examples and references."""
