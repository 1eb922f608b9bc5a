"""The first-run sample: a small bundled table (Palmer penguins, CC0) and a brief for it."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
SAMPLE_CSV = SAMPLE_DIR / "penguins.csv"
SAMPLE_BRIEF = (SAMPLE_DIR / "brief.txt").read_text(encoding="utf-8").strip()
SAMPLE_PROJECT_NAME = "Sample: penguin species"
SAMPLE_BUDGET_SECONDS = 20.0
