"""Duration distributions a scenario may name, all in minutes.

Each is a small frozen pydantic model with a ``sample`` method so the scenario schema
and the sampling code cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean_value(self) -> float:
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    @property
    def mean_value(self) -> float:
        return self.value


class Exponential(_Dist):
    """Memoryless durations with the given mean."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    @property
    def mean_value(self) -> float:
        return self.mean


class Lognormal(_Dist):
    """Right-skewed durations given by their mean and standard deviation (not log-scale)."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)

    @property
    def mean_value(self) -> float:
        return self.mean


class Uniform(_Dist):
    """Durations spread evenly between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2


Duration = Annotated[Fixed | Exponential | Lognormal | Uniform, Field(discriminator="dist")]
