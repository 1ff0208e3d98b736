"""Synthetic new customers, fitted to the training file (seeded: the same seed and set give the same file).

What is kept from the training data:
- per column, the empirical distribution of its values (categories with their frequencies; tenure as
  observed); every generated value is one the training data holds or lies within its observed range;
- the main correlations, by sampling in the order the business decides them: the location (city, zip,
  latitude, longitude) as one observed tuple; gender; senior/partner/dependents jointly; contract; tenure
  given the contract; internet service given the contract; each add-on given the internet service;
  multiple lines given phone service; payment method and paperless billing given the contract;
- monthly charges from a linear fit of the training charges on the services (plus the residual spread),
  clipped to the observed range and rounded to 0.05 like the sample's tariffs; total charges ≈ monthly ×
  tenure with the training data's spread of their ratio, blank for tenure 0 as in the sample.

No label columns (churn, CLTV) are generated: they are what the models predict.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medallion.pipelines.cltv.columns import INTERNET_ADD_ONS, NEW_COLUMNS, TRAIN_COLUMNS

TRAINING_FILE = Path(__file__).parent / "data" / "Telco_customer_churn.csv"
LOCATION = ("count", "country", "state", "city", "zip_code", "lat_long", "latitude", "longitude")
CHARGED_SERVICES = ("phone_service", "multiple_lines", *INTERNET_ADD_ONS)


def read_training(path: Path = TRAINING_FILE) -> list[dict[str, str]]:
    """The training rows keyed by lakehouse column names (the byte-order mark removed)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    names = [name for _, name in TRAIN_COLUMNS]
    return [dict(zip(names, row)) for row in rows[1:]]


@dataclass(frozen=True)
class Categorical:
    """Observed values and their frequencies."""

    values: tuple
    weights: tuple[float, ...]

    @classmethod
    def of(cls, observations) -> Categorical:
        counts = sorted(Counter(observations).items())  # sorted: the same fit whatever the row order
        total = sum(count for _, count in counts)
        return cls(tuple(value for value, _ in counts), tuple(count / total for _, count in counts))

    def draw(self, rng: np.random.Generator):
        return self.values[rng.choice(len(self.values), p=self.weights)]


@dataclass(frozen=True)
class FittedModel:
    locations: tuple[tuple[str, ...], ...]
    gender: Categorical
    household: Categorical  # (senior, partner, dependents)
    contract: Categorical
    tenure_by_contract: dict
    internet_by_contract: dict
    add_on_by_internet: dict  # (add_on, internet) → Categorical
    phone: Categorical
    multiple_lines_by_phone: dict
    payment_by_contract: dict
    paperless_by_contract: dict
    charge_coefficients: tuple[float, ...]
    charge_residual_sd: float
    monthly_range: tuple[float, float]
    total_ratio: tuple[float, float]  # mean and sd of total / (monthly × tenure)


def fit(rows: list[dict[str, str]]) -> FittedModel:
    def by(key, value, rows=rows):
        groups: dict = {}
        for row in rows:
            groups.setdefault(row[key], []).append(row[value])
        return {k: Categorical.of(v) for k, v in sorted(groups.items())}

    design = np.array([charge_design(r) for r in rows])
    monthly = np.array([float(r["monthly_charges"]) for r in rows])
    coefficients, *_ = np.linalg.lstsq(design, monthly, rcond=None)
    residuals = monthly - design @ coefficients
    billed = [r for r in rows if r["total_charges"].strip() and int(r["tenure_months"]) > 0]
    ratios = np.array(
        [float(r["total_charges"]) / (float(r["monthly_charges"]) * int(r["tenure_months"])) for r in billed]
    )
    return FittedModel(
        locations=tuple(sorted({tuple(r[c] for c in LOCATION) for r in rows})),
        gender=Categorical.of(r["gender"] for r in rows),
        household=Categorical.of((r["senior_citizen"], r["partner"], r["dependents"]) for r in rows),
        contract=Categorical.of(r["contract"] for r in rows),
        tenure_by_contract=by("contract", "tenure_months"),
        internet_by_contract=by("contract", "internet_service"),
        add_on_by_internet={(a, i): c for a in INTERNET_ADD_ONS for i, c in by("internet_service", a).items()},
        phone=Categorical.of(r["phone_service"] for r in rows),
        multiple_lines_by_phone=by("phone_service", "multiple_lines"),
        payment_by_contract=by("contract", "payment_method"),
        paperless_by_contract=by("contract", "paperless_billing"),
        charge_coefficients=tuple(coefficients.tolist()),
        charge_residual_sd=float(residuals.std()),
        monthly_range=(float(monthly.min()), float(monthly.max())),
        total_ratio=(float(ratios.mean()), float(ratios.std())),
    )


def charge_design(row: dict[str, str]) -> list[float]:
    """Monthly charges are (nearly) a tariff: a constant, fibre or DSL, plus each charged service."""
    return [
        1.0,
        float(row["internet_service"] == "Fiber optic"),
        float(row["internet_service"] == "DSL"),
        *[float(row[s] == "Yes") for s in CHARGED_SERVICES],
    ]


def sample(model: FittedModel, count: int, seed: int, id_prefix: str) -> list[dict[str, str]]:
    """``count`` new customers as the landed file spells them (strings), ids ``<id_prefix>-<n>``."""
    rng = np.random.default_rng(seed)
    customers = []
    for n in range(count):
        row: dict[str, str] = {"customer_id": f"{id_prefix}-{n + 1:05d}"}
        row.update(zip(LOCATION, model.locations[rng.integers(len(model.locations))]))
        row["gender"] = model.gender.draw(rng)
        row["senior_citizen"], row["partner"], row["dependents"] = model.household.draw(rng)
        contract = row["contract"] = model.contract.draw(rng)
        tenure = int(model.tenure_by_contract[contract].draw(rng))
        row["tenure_months"] = str(tenure)
        internet = row["internet_service"] = model.internet_by_contract[contract].draw(rng)
        for add_on in INTERNET_ADD_ONS:
            row[add_on] = model.add_on_by_internet[(add_on, internet)].draw(rng)
        phone = row["phone_service"] = model.phone.draw(rng)
        row["multiple_lines"] = model.multiple_lines_by_phone[phone].draw(rng)
        row["payment_method"] = model.payment_by_contract[contract].draw(rng)
        row["paperless_billing"] = model.paperless_by_contract[contract].draw(rng)
        monthly = float(np.dot(model.charge_coefficients, charge_design(row)))
        monthly += rng.normal(0.0, model.charge_residual_sd)
        monthly = round(float(np.clip(monthly, *model.monthly_range)) * 20) / 20  # tariffs step by 0.05
        row["monthly_charges"] = f"{monthly:.2f}".rstrip("0").rstrip(".")
        ratio = max(0.5, rng.normal(*model.total_ratio))
        row["total_charges"] = " " if tenure == 0 else f"{monthly * tenure * ratio:.2f}"
        customers.append(row)
    return customers


def to_csv(rows: list[dict[str, str]]) -> str:
    """The rows as a new-customers file: the training file's headers minus the labels, CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for header, _ in NEW_COLUMNS])
    writer.writerows([[row[name] for _, name in NEW_COLUMNS] for row in rows])
    return out.getvalue()
