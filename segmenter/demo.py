"""A seeded generator of retail customers with *planted* personas.

Tests, benchmarks and the demo all use this one builder, so every check of
"are the segments and drivers recovered?" has a known answer.

Each persona moves 2-4 driving features away from a shared baseline; every other
feature is drawn from that baseline, and a few features carry no signal at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PlantedDriver:
    """One planted driving feature of a persona: its column, direction and level."""

    feature: str
    direction: str  # "higher" or "lower" than the rest of the table
    level: str | None = None  # for a categorical column: the over-represented level


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    drivers: tuple[PlantedDriver, ...]


PERSONAS: tuple[Persona, ...] = (
    Persona("Loyal Big Spenders", 0.18, (
        PlantedDriver("annual_spend", "higher"),
        PlantedDriver("orders_per_year", "higher"),
        PlantedDriver("loyalty_member", "higher"),
    )),
    Persona("Bargain Hunters", 0.19, (
        PlantedDriver("discount_share", "higher"),
        PlantedDriver("returns_per_year", "higher"),
        PlantedDriver("avg_order_value", "lower"),
    )),
    Persona("Lapsed Customers", 0.17, (
        PlantedDriver("days_since_last_order", "higher"),
        PlantedDriver("orders_per_year", "lower"),
    )),
    Persona("App-First Young Shoppers", 0.16, (
        PlantedDriver("age", "lower"),
        PlantedDriver("online_share", "higher"),
        PlantedDriver("app_user", "higher"),
    )),
    Persona("Premium Occasional Buyers", 0.14, (
        PlantedDriver("avg_order_value", "higher"),
        PlantedDriver("discount_share", "lower"),
    )),
    Persona("In-Store Traditionalists", 0.16, (
        PlantedDriver("age", "higher"),
        PlantedDriver("online_share", "lower"),
        PlantedDriver("preferred_channel", "higher", "store"),
    )),
)

#: Columns drawn from one distribution for everybody: they must never rank as drivers.
SIGNAL_FREE: tuple[str, ...] = ("gender", "region", "household_size", "newsletter_opt_in", "signup_date")


@dataclass(frozen=True, eq=False)
class DemoData:
    """The generated table and its ground truth."""

    table: pd.DataFrame
    persona: np.ndarray  # persona index per row
    personas: tuple[Persona, ...] = field(default=PERSONAS)
    signal_free: tuple[str, ...] = field(default=SIGNAL_FREE)
    id_column: str = "customer_id"

    @property
    def persona_names(self) -> np.ndarray:
        return np.array([p.name for p in self.personas])[self.persona]


def _baseline(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "age": rng.normal(44, 6, n),
        "annual_spend": rng.lognormal(np.log(900), 0.25, n),
        "orders_per_year": rng.lognormal(np.log(8), 0.2, n),
        "avg_order_value": rng.lognormal(np.log(60), 0.18, n),
        "days_since_last_order": rng.lognormal(np.log(30), 0.3, n),
        "online_share": rng.beta(8, 8, n),
        "discount_share": rng.beta(5, 15, n),
        "returns_per_year": rng.poisson(1.0, n).astype(float),
        "app_user": rng.random(n) < 0.2,
        "loyalty_member": rng.random(n) < 0.2,
        "preferred_channel": rng.choice(["web", "store", "app"], n, p=[0.6, 0.25, 0.15]),
    }


def _plant(rng: np.random.Generator, persona: str, n: int) -> dict[str, np.ndarray]:
    """Overrides of the baseline for one persona's driving features."""
    if persona == "Loyal Big Spenders":
        return {"annual_spend": rng.lognormal(np.log(4200), 0.25, n),
                "orders_per_year": rng.lognormal(np.log(24), 0.2, n),
                "loyalty_member": rng.random(n) < 0.95}
    if persona == "Bargain Hunters":
        return {"discount_share": rng.beta(16, 4, n),
                "returns_per_year": rng.poisson(7.0, n).astype(float),
                "avg_order_value": rng.lognormal(np.log(22), 0.18, n)}
    if persona == "Lapsed Customers":
        return {"days_since_last_order": rng.lognormal(np.log(320), 0.25, n),
                "orders_per_year": rng.lognormal(np.log(1.8), 0.25, n)}
    if persona == "App-First Young Shoppers":
        return {"age": rng.normal(24, 3, n),
                "online_share": rng.beta(30, 2, n),
                "app_user": rng.random(n) < 0.95}
    if persona == "Premium Occasional Buyers":
        return {"avg_order_value": rng.lognormal(np.log(240), 0.18, n),
                "discount_share": rng.beta(1, 40, n)}
    if persona == "In-Store Traditionalists":
        return {"age": rng.normal(68, 5, n),
                "online_share": rng.beta(2, 30, n),
                "preferred_channel": rng.choice(["web", "store", "app"], n, p=[0.03, 0.95, 0.02])}
    raise KeyError(persona)


def make_demo_customers(n: int = 5000, seed: int = 0, missing: float = 0.02,
                        first_id: int = 100000) -> DemoData:
    """Generate ``n`` retail customers belonging to six planted personas.

    Parameters
    ----------
    n : number of customers (rows).
    seed : random seed; the same seed gives the same table.
    missing : share of cells blanked in a few columns, as in real exports.
    first_id : number of the first customer id (``C100000``); give tables of new customers
        their own range so their ids do not repeat the demo table's.
    """
    rng = np.random.default_rng(seed)
    shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())
    cols = _baseline(rng, n)
    for i, p in enumerate(PERSONAS):
        rows = np.flatnonzero(persona == i)
        for column, values in _plant(rng, p.name, len(rows)).items():
            cols[column][rows] = values

    signup = pd.Timestamp("2024-06-30") - pd.to_timedelta(rng.integers(30, 2500, n), unit="D")
    table = pd.DataFrame({
        "customer_id": [f"C{first_id + i}" for i in range(n)],
        "age": np.clip(np.round(cols["age"]), 18, 95),
        "gender": rng.choice(["female", "male", "non-binary"], n, p=[0.5, 0.47, 0.03]),
        "region": rng.choice(["North", "South", "East", "West", "Central"], n),
        "signup_date": signup.normalize(),
        "annual_spend": np.round(cols["annual_spend"], 2),
        "orders_per_year": np.maximum(1, np.round(cols["orders_per_year"])),
        "avg_order_value": np.round(cols["avg_order_value"], 2),
        "days_since_last_order": np.round(cols["days_since_last_order"]),
        "online_share": np.round(cols["online_share"], 3),
        "discount_share": np.round(cols["discount_share"], 3),
        "returns_per_year": cols["returns_per_year"],
        "app_user": cols["app_user"],
        "loyalty_member": cols["loyalty_member"],
        "preferred_channel": cols["preferred_channel"],
        "household_size": rng.integers(1, 6, n).astype(float),
        "newsletter_opt_in": rng.random(n) < 0.4,
    })
    for column in ("age", "avg_order_value", "household_size"):
        blank = rng.random(n) < missing
        table.loc[blank, column] = np.nan
    return DemoData(table=table, persona=persona)
