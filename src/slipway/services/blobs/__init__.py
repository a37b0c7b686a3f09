"""Blobs service: object upload and download over the API."""
