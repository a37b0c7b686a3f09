"""Data versioning: datasets, versions, profiles."""
