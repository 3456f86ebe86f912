"""Duration distributions a scenario may name, all in minutes.

Each is a small frozen pydantic model with a ``sample`` method so the scenario schema
and the sampling code cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MINUTES = 10080.0
"""Longest duration any distribution may describe: a week, in minutes."""
MAX_CV = 100.0
"""Largest coefficient of variation (sd / mean) of a log-normal duration."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean_value(self) -> float:
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: float = Field(ge=0, le=MAX_MINUTES)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    @property
    def mean_value(self) -> float:
        return self.value


class Exponential(_Dist):
    """Memoryless durations with the given mean."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, le=MAX_MINUTES)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    @property
    def mean_value(self) -> float:
        return self.mean


class Lognormal(_Dist):
    """Right-skewed durations given by their mean and standard deviation (not log-scale)."""

    dist: Literal["lognormal"]
    mean: float = Field(ge=1e-3, le=MAX_MINUTES)
    sd: float = Field(gt=0, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _spread(self) -> Lognormal:
        # beyond this the log-scale parameters stop describing minutes: almost every draw
        # is near zero and a rare one runs for years
        if self.sd > MAX_CV * self.mean:
            raise ValueError(
                f"sd {self.sd:g} is more than {MAX_CV:g} times the mean {self.mean:g}; "
                "no duration is that spread"
            )
        return self

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
    low: float = Field(ge=0, le=MAX_MINUTES)
    high: float = Field(ge=0, le=MAX_MINUTES)

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
