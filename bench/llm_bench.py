"""LLM planner benchmark: one `briefml build` per mode against a scripted local server.

    python -m bench.llm_bench [--budget 15] [--timeout 5] [--modes offline,good,malformed,hung,dead]

Modes: offline (no LLM), good, malformed (tool-call JSON cut off), hostile (another target,
maximum parameters, a false report), slow (answers after 2x the timeout), hung (never
answers), dead (connection refused). The server is tests/openai_server.py on 127.0.0.1,
reached through the real langchain-openai client. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.datasets import load_breast_cancer

from tests.openai_server import ScriptedOpenAI, answers_for, dead_url, hostile_answers

SERVER_MODES = {"good": "good", "malformed": "malformed", "hostile": "hostile", "slow": "slow",
                "hung": "hang"}
GOOD = answers_for("diagnosis", "binary", "roc_auc", "malignant")


def write_table(folder: Path) -> Path:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, list(range(8)) + [-1]]
    frame = frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = frame["diagnosis"].map({0: "malignant", 1: "benign"})
    path = folder / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


def run(mode: str, table: Path, folder: Path, budget: float, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BRIEFML_LLM": "openai:scripted",
           "BRIEFML_LLM_API_KEY": "bench", "BRIEFML_LLM_TIMEOUT_SECONDS": str(timeout)}
    answers = hostile_answers(GOOD, "mean radius", "regression", "rmse") if mode == "hostile" else GOOD
    server = ScriptedOpenAI(SERVER_MODES.get(mode, "good"), answers, delay=2 * timeout)
    with server:
        env["BRIEFML_LLM_BASE_URL"] = dead_url() if mode == "dead" else server.base_url
        bundle = folder / f"{mode}.zip"
        command = [sys.executable, "-m", "briefml", "build", str(table), "--intent",
                   "predict the diagnosis", "--budget", str(budget), "--json", "--out", str(bundle),
                   "--planner", "offline" if mode == "offline" else "llm"]
        start = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              check=False)
        wall = time.monotonic() - start
    if done.returncode != 0:
        return {"mode": mode, "wall": wall, "error": done.stderr.strip().splitlines()[-1:]}
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    planner = summary["planner"]
    usage = planner.get("usage") or {}
    return {
        "mode": mode, "wall": wall, "planner": planner["name"], "target": summary["target"],
        "fallbacks": ", ".join(f"{f['step']}:{f['kind']}" for f in planner["fallbacks"]) or "-",
        "requests": len(server.requests), "tokens": f"{usage.get('input_tokens', 0)}/"
        f"{usage.get('output_tokens', 0)}", "parse_errors": usage.get("parse_errors", 0),
        "bundle_mb": bundle.stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=15)
    parser.add_argument("--timeout", type=float, default=5)
    parser.add_argument("--modes", default="offline,good,malformed,hung,dead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefml-llm-bench-") as tmp:
        folder = Path(tmp)
        table = write_table(folder)
        rows = [run(mode, table, folder, args.budget, args.timeout)
                for mode in args.modes.split(",")]
    print(f"budget {args.budget:g} s, LLM timeout {args.timeout:g} s, breast cancer (569 x 9)\n")
    print("| mode | wall s | planner | target | requests | tokens in/out | parse errors | "
          "bundle MB | fallbacks (step:kind) |\n|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['mode']} | {row['wall']:.1f} | failed: {row['error']} |")
            continue
        print(f"| {row['mode']} | {row['wall']:.1f} | {row['planner']} | {row['target']} | "
              f"{row['requests']} | {row['tokens']} | {row['parse_errors']} | "
              f"{row['bundle_mb']:.2f} | {row['fallbacks']} |")


if __name__ == "__main__":
    main()
