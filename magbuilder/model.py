"""The base of every validated file model: strict, immutable, with the shared patterns."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

HTTPS_URL = r"^https://[^\s/]+(/\S*)?$"


class Model(BaseModel):
    """Strict base: unknown keys are errors, values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


NonEmpty = Field(min_length=1)
