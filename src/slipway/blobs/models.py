"""Bodies for moving content-addressed objects over the API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoredObject(BaseModel):
    hash: str
    size: int


class HashList(BaseModel):
    hashes: list[str] = Field(max_length=100_000)
