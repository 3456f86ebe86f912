"""The progressive penalty and the case pipeline that follows a sanction.

A sanction is the rung of the ladder (责令改正通知书 → fine under the city-appearance
rules → fine under the urban-road rules) that an offender's record has reached. A rung
that files a case (立案) starts the pipeline: online approval (网上案件审批), a penalty
decision (处罚决定书) or a dropped case, disputes to the mediation room (行政调解室),
payment, referral of unpaid decisions to the court (移交法院申请强制执行) and its ruling
(行政裁定书). Everything here is vectorised over cases and knows nothing of the clock:
the pipeline is a set of delays measured from the moment the team closes the incident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from sim.scenario import Days, Enforcement

DAY_MIN = 1440.0


def rung_of(steps: np.ndarray, first_rung: np.ndarray, n_rungs: int) -> np.ndarray:
    """The rung of the next sanction: one up per earlier sanction, from the group's first."""
    out: np.ndarray = np.minimum(first_rung + steps, n_rungs - 1)
    return out


def draw_days(rng: np.random.Generator, spec: Days, n: int) -> np.ndarray:
    """``n`` delays in minutes from a days specification (log-normal, or fixed with sd 0)."""
    if spec.sd <= 0 or spec.mean <= 0:
        return np.full(n, spec.mean * DAY_MIN)
    sigma2 = math.log1p((spec.sd / spec.mean) ** 2)
    mu = math.log(spec.mean) - sigma2 / 2
    out: np.ndarray = rng.lognormal(mu, math.sqrt(sigma2), n) * DAY_MIN
    return out


def draw_fines(rng: np.random.Generator, enf: Enforcement, rungs: np.ndarray) -> np.ndarray:
    """Fine amounts in yuan: log-normal by rung, cut at the rung's legal cap."""
    out = np.zeros(len(rungs))
    z = rng.standard_normal(len(rungs))  # one draw per case whatever its rung
    for r, spec in enumerate(enf.rungs):
        idx = rungs == r
        if spec.fine_mean <= 0 or not idx.any():
            continue
        if spec.fine_sd <= 0:
            out[idx] = spec.fine_mean
            continue
        sigma2 = math.log1p((spec.fine_sd / spec.fine_mean) ** 2)
        mu = math.log(spec.fine_mean) - sigma2 / 2
        out[idx] = np.minimum(np.exp(mu + math.sqrt(sigma2) * z[idx]), spec.fine_cap)
    return np.round(out)


@dataclass(frozen=True, eq=False)
class CasePlan:
    """The fate of each case, as delays (minutes) from the incident's close.

    Flags say which steps happen; the delay of a step that does not happen is NaN.
    """

    incident: np.ndarray  # index into the offender incidents (later: the merged incidents)
    offender: np.ndarray
    rung: np.ndarray
    decided: np.ndarray
    fine: np.ndarray  # yuan; 0 for a dropped case
    mediated: np.ndarray
    paid: np.ndarray
    referred: np.ndarray
    ruled: np.ndarray
    decision_after: np.ndarray
    paid_after: np.ndarray
    referral_after: np.ndarray
    ruling_after: np.ndarray

    @property
    def n(self) -> int:
        return len(self.incident)

    @classmethod
    def concat(cls, plans: list[CasePlan]) -> CasePlan:
        if not plans:
            return empty_plan()
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in plans]) for f in fields(cls)}
        )

    def select(self, mask: np.ndarray) -> CasePlan:
        return CasePlan(**{f.name: getattr(self, f.name)[mask] for f in fields(self)})


def empty_plan() -> CasePlan:
    ints = np.zeros(0, dtype=np.int64)
    flags = np.zeros(0, dtype=bool)
    reals = np.zeros(0)
    return CasePlan(
        ints, ints, ints, flags, reals, flags, flags, flags, flags, reals, reals, reals, reals
    )


def draw_cases(
    rng: np.random.Generator,
    enf: Enforcement,
    incident: np.ndarray,
    offender: np.ndarray,
    rung: np.ndarray,
) -> CasePlan:
    """Draw the pipeline of a batch of newly filed cases (one fixed block of draws per case)."""
    n = len(incident)
    c, court = enf.cases, enf.court
    u = rng.random((6, n))
    decided = u[0] < c.decision
    mediated = decided & (u[1] < c.mediation)
    unpaid = decided & (u[2] < c.unpaid)
    paid = decided & ~unpaid
    referred = unpaid & (u[3] < court.referral)
    ruled = referred & (u[4] < court.ruling)
    fine = np.where(decided, draw_fines(rng, enf, rung), 0.0)
    approval = draw_days(rng, c.approval, n)
    mediation = np.where(mediated, draw_days(rng, c.mediation_time, n), 0.0)
    pay = draw_days(rng, c.pay_time, n)
    refer = draw_days(rng, court.referral_time, n)
    rule = draw_days(rng, court.ruling_time, n)
    nan = np.nan
    decision_after = np.where(decided, approval, nan)
    due = approval + mediation + pay
    return CasePlan(
        incident=incident.astype(np.int64),
        offender=offender.astype(np.int64),
        rung=rung.astype(np.int64),
        decided=decided,
        fine=fine,
        mediated=mediated,
        paid=paid,
        referred=referred,
        ruled=ruled,
        decision_after=decision_after,
        paid_after=np.where(paid, due, nan),
        referral_after=np.where(referred, due + refer, nan),
        ruling_after=np.where(ruled, due + refer + rule, nan),
    )
