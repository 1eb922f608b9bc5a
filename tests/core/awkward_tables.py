"""One small table written the awkward ways real files are: a Latin-1 file with `;` and
decimal commas, a UTF-8 file with a BOM, a UTF-16 tab-separated file; money, percent signs,
accented names, a Yes/No input column and a Yes/No target.

Every variant holds the same values, so every reader path must give the same predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TARGET = "gekauft"
BRIEF = f"Predict {TARGET}"


def table(rows: int = 160, seed: int = 0) -> pd.DataFrame:
    """The values, as numbers and labels (what every variant means)."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(20, 200, rows).round(1)
    rent = rng.uniform(200, 990, rows).round(2)
    share = rng.integers(0, 400, rows) / 4  # 0 to 99.75 percent, at most two decimals
    city = rng.choice(["Köln", "München", "Zürich", "Genève"], rows)
    member = rng.choice(["Yes", "No"], rows)
    score = area / 100 - rent / 500 + (member == "Yes") * 0.8 + (city == "Zürich") * 0.5
    bought = np.where(score + rng.normal(0, 0.4, rows) > np.median(score), "Yes", "No")
    return pd.DataFrame({"größe": area, "miete": rent, "anteil": share, "stadt": city,
                         "mitglied": member, TARGET: bought})


def _decimal_comma(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def latin1_semicolon(df: pd.DataFrame) -> bytes:
    """Latin-1, `;`-separated, decimal commas, money as '£812,5', percent as '12,25 %'."""
    out = pd.DataFrame({
        "größe": df["größe"].map(_decimal_comma),
        "miete": df["miete"].map(lambda v: "£" + _decimal_comma(v)),
        "anteil": df["anteil"].map(lambda v: _decimal_comma(v) + " %"),
        "stadt": df["stadt"], "mitglied": df["mitglied"], TARGET: df[TARGET],
    })
    return out.to_csv(index=False, sep=";").encode("latin-1")


def utf8_bom_comma(df: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, `,`-separated, decimal points, money as '$812.50', percent '12.25%'."""
    out = pd.DataFrame({
        "größe": df["größe"].map(lambda v: f"{v:g}"),
        "miete": df["miete"].map(lambda v: f"${v:.2f}"),
        "anteil": df["anteil"].map(lambda v: f"{v:g}%"),
        "stadt": df["stadt"], "mitglied": df["mitglied"], TARGET: df[TARGET],
    })
    return b"\xef\xbb\xbf" + out.to_csv(index=False).encode("utf-8")


def utf16_tab(df: pd.DataFrame) -> bytes:
    """UTF-16 (with its BOM), tab-separated, decimal commas, money as '812,5 €'."""
    out = pd.DataFrame({
        "größe": df["größe"].map(_decimal_comma),
        "miete": df["miete"].map(lambda v: _decimal_comma(v) + " €"),
        "anteil": df["anteil"].map(lambda v: _decimal_comma(v) + "%"),
        "stadt": df["stadt"], "mitglied": df["mitglied"], TARGET: df[TARGET],
    })
    return out.to_csv(index=False, sep="\t").encode("utf-16")


VARIANTS = {"latin1.csv": latin1_semicolon, "bom.csv": utf8_bom_comma, "utf16.txt": utf16_tab}


def variant_files(df: pd.DataFrame) -> dict[str, bytes]:
    return {name: write(df) for name, write in VARIANTS.items()}
