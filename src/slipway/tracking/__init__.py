"""Experiment tracking: runs, params, metrics, tags, artifacts, capture, search."""
