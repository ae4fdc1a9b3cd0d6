"""Generated credit-card transactions for the fraud-monitoring example.

Each quarter of 2017 holds transactions with merchant, cardholder and transaction features and the
target `authorized_flag` (1 = authorized, about 90% of rows). Q2 and Q3 come from the same
distribution as Q1 (the training quarter); in Q4 two features drift: many new cards arrive
(`card_age` falls) and cardholders' `card_fico_score` drops. Everything is seeded, so a quarter
is the same on every machine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUARTERS = ("2017Q1", "2017Q2", "2017Q3", "2017Q4")
DRIFTED_QUARTER = "2017Q4"
TARGET = "authorized_flag"
NUMERIC_FEATURES = (
    "purchase_amount",
    "card_age",
    "card_fico_score",
    "days_active",
    "installments",
    "merchant_risk_score",
)
CATEGORICAL_FEATURES = ("merchant_category", "merchant_state", "card_type")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES

_CATEGORIES = {
    "merchant_category": (
        ["grocery", "fuel", "restaurant", "travel", "electronics", "apparel", "online"],
        [0.24, 0.16, 0.18, 0.08, 0.09, 0.11, 0.14],
    ),
    "merchant_state": (
        ["CA", "TX", "NY", "FL", "IL", "WA", "MA", "GA", "OH", "CO"],
        [0.2, 0.14, 0.13, 0.11, 0.08, 0.08, 0.07, 0.07, 0.06, 0.06],
    ),
    "card_type": (["debit", "credit", "prepaid"], [0.45, 0.48, 0.07]),
}


def generate_quarter(quarter: str, rows: int = 20_000, *, seed: int = 2017) -> pd.DataFrame:
    """Transactions of `quarter` (one of QUARTERS); Q4 carries the planted drift."""
    if quarter not in QUARTERS:
        raise ValueError(f"unknown quarter {quarter!r}; choose one of {', '.join(QUARTERS)}")
    rng = np.random.default_rng([seed, QUARTERS.index(quarter)])
    drifted = quarter == DRIFTED_QUARTER
    card_age = rng.gamma(shape=2.2, scale=14.0, size=rows)  # months since the card was issued
    fico = rng.normal(705, 48, size=rows)
    if drifted:
        new_cards = rng.random(rows) < 0.45
        card_age = np.where(new_cards, rng.gamma(1.2, 2.5, size=rows), card_age)
        fico = fico - rng.normal(45, 15, size=rows)
    frame = pd.DataFrame(
        {
            "purchase_amount": np.round(rng.lognormal(3.6, 1.0, size=rows), 2),
            "card_age": np.round(card_age, 1),
            "card_fico_score": np.clip(np.round(fico), 300, 850),
            "days_active": rng.integers(1, 3650, size=rows),
            "installments": rng.choice([1, 1, 1, 1, 2, 3, 6, 12], size=rows),
            "merchant_risk_score": np.round(rng.beta(2, 8, size=rows), 4),
        }
    )
    for name, (values, weights) in _CATEGORIES.items():
        frame[name] = rng.choice(values, size=rows, p=weights)
    logit = (
        2.6
        + 0.018 * (frame["card_fico_score"] - 700)
        + 0.025 * np.minimum(frame["card_age"], 60)
        - 0.45 * np.log1p(frame["purchase_amount"] / 100)
        - 6.0 * (frame["merchant_risk_score"] - 0.2)
        - 0.8 * (frame["merchant_category"] == "online")
        - 0.6 * (frame["card_type"] == "prepaid")
    )
    frame[TARGET] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.insert(0, "transaction_id", [f"{quarter}-{i:07d}" for i in range(rows)])
    return frame


def train_model(train: pd.DataFrame, *, seed: int = 0):
    """A scikit-learn pipeline predicting `authorized_flag` from FEATURES."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encode = ColumnTransformer(
        [
            (
                "categories",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                list(CATEGORICAL_FEATURES),
            )
        ],
        remainder="passthrough",
    )
    model = Pipeline(
        [
            ("encode", encode),
            ("classify", HistGradientBoostingClassifier(max_iter=120, random_state=seed)),
        ]
    )
    return model.fit(train[list(FEATURES)], train[TARGET])
