"""Hostile inputs: every case must end in one line (an error or success), never a traceback,
with the peak memory of the process tree under 1.5 GB.

    python -m bench.hostile [--quick] [--only NAME]

Generates the files and bundles of issue #22 on the fly (see `bench.hostile_files`) in a
temporary folder, runs each through a real entry point in its own process (`briefml predict`,
`briefml build`, the workspace's upload reader, a bundle's `predict.py`) and prints, per case,
the peak resident memory of that process and its children (ru_maxrss from wait4), the wall
time and the outcome. --quick makes the bombs smaller (seconds instead of minutes to generate).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `python bench/<name>.py` finds bench/

from bench import hostile_files as hf

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 1536
UPLOAD = ("import sys; from core.loading import load_table; from workspace.datasets import load_limits\n"
          "try:\n    df = load_table(sys.argv[1], limits=load_limits()); print(f'read {df.shape}')\n"
          "except ValueError as e:\n    print(f'Error: {e}', file=sys.stderr); sys.exit(2)")


@dataclass
class Outcome:
    case: str
    entry: str
    peak_mb: float
    seconds: float
    code: int
    line: str
    traceback: bool


def run(case: str, entry: str, argv: list[str], env: dict, cwd: Path | None = None) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd or ROOT)
        _, status, usage = os.wait4(child.pid, 0)  # ru_maxrss: the largest of the tree it waited for
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        text = (err.read()[-20000:] + out.read()[-2000:]).decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    line = errors[0] if errors else (lines[-1] if lines else "")
    return Outcome(case, entry, usage.ru_maxrss / 1024, seconds, child.returncode, line[:150],
                   "Traceback (most recent call last)" in text)


def _bundle(folder: Path, env: dict) -> Path:
    """A small real bundle (CatBoost on the breast-cancer table), signed by the home's key."""
    path = folder / "model.zip"
    code = ("import sys; from tests.core import model_factories as f; from core.bundle import build_bundle\n"
            "from workspace import bundle_keys\n"
            "df, schema = f.breast_cancer(); m = f.model_of(schema, f.catboost_member(df, schema, iterations=10))\n"
            "build_bundle(m, sys.argv[1], input_example=df.head(), signing_key=bundle_keys.signing_key())\n"
            "df.drop(columns=['diagnosis']).head(20).to_csv(sys.argv[2], index=False)\n"
            "r = f.diabetes()[0]; s = f.diabetes()[1]; g = f.model_of(s, f.catboost_member(r, s, iterations=5))\n"
            "build_bundle(g, sys.argv[3], signing_key=None)")
    subprocess.run([PYTHON, "-c", code, str(path), str(folder / "rows.csv"), str(folder / "other.zip")],
                   env=env, cwd=ROOT, check=True)
    return path


def _listed_bomb(source: Path, target: Path, megabytes: int) -> Path:
    """metrics.json replaced by `megabytes` MiB of zeros, its hash updated in the manifest."""
    import json

    digest = hashlib.sha256()
    block = b"\0" * (1024 * 1024)
    for _ in range(megabytes):
        digest.update(block)
    with zipfile.ZipFile(source) as archive:
        files = {i.filename: archive.read(i) for i in archive.infolist() if i.filename != "metrics.json"}
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["metrics.json"] = digest.hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    files.pop("signature.json", None)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        with archive.open("metrics.json", "w", force_zip64=True) as out:
            for _ in range(megabytes):
                out.write(block)
    return target


def bundle_cases(folder: Path, bundle: Path, quick: bool) -> dict[str, Path]:
    """Hostile bundles made from the good one."""
    import json

    other = folder / "other.zip"
    cases: dict[str, Path] = {}
    cases["unlisted zip bomb"] = hf.zip_bomb_bundle(bundle, folder / "bomb.zip", megabytes=256 if quick else 4096)
    cases["listed zip bomb"] = _listed_bomb(bundle, folder / "listed_bomb.zip", 1100)

    def swap(files):
        with zipfile.ZipFile(other) as archive:
            files["models/member_0.cbm"] = archive.read("models/member_0.cbm")
        hf.rehash(files)
    cases["swapped member, re-hashed"] = hf.rewrite_bundle(bundle, folder / "swapped.zip", swap)

    def resign_same_features(files):  # a valid model of the same table, changed: only the signature can tell
        files["README.md"] = b"# an innocent-looking change\n"
        hf.rehash(files)
    cases["changed file, re-hashed"] = hf.rewrite_bundle(bundle, folder / "rehashed.zip", resign_same_features)
    cases["files: {} (nothing listed)"] = hf.rewrite_bundle(
        bundle, folder / "empty_files.zip", lambda f: hf.edit_manifest(f, lambda m: m.update(files={})))
    cases["schema.json not listed"] = hf.rewrite_bundle(
        bundle, folder / "no_schema.zip", lambda f: hf.edit_manifest(f, lambda m: m["files"].pop("schema.json")))
    cases["absolute path listed"] = hf.rewrite_bundle(
        bundle, folder / "absolute.zip",
        lambda f: hf.edit_manifest(f, lambda m: m["members"][0].update(file="/etc/passwd")))
    cases["'..' path listed"] = hf.rewrite_bundle(
        bundle, folder / "dotdot.zip",
        lambda f: hf.edit_manifest(f, lambda m: m["files"].update({"../outside.cbm": "0" * 64})))
    cases["NaN member weight"] = hf.rewrite_bundle(
        bundle, folder / "nan.zip", lambda f: f.update({"manifest.json": f["manifest.json"].replace(
            b'"weight": 1.0', b'"weight": NaN')}))
    cases["weight as text"] = hf.rewrite_bundle(
        bundle, folder / "weight_text.zip", lambda f: hf.edit_manifest(f, lambda m: m["members"][0].update(weight="1")))

    def task(value):
        def change(files):
            schema = json.loads(files["schema.json"])
            schema["task_type"] = value
            files["schema.json"] = json.dumps(schema).encode()
            hf.rehash(files)
            hf.edit_manifest(files, lambda m: m.update(task_type=value))
            hf.rehash(files)
        return change
    cases["wrong task type (regression)"] = hf.rewrite_bundle(bundle, folder / "task.zip", task("regression"))
    cases["unknown task type"] = hf.rewrite_bundle(bundle, folder / "task2.zip", task("ranking"))

    def deep(files):
        files["schema.json"] = hf.deep_json(100_000)
        hf.rehash(files)
    cases["recursion-deep schema.json"] = hf.rewrite_bundle(bundle, folder / "deep.zip", deep)

    def garbage(files):
        files["models/member_0.cbm"] = b"not a catboost model" * 100
        hf.rehash(files)
    cases["garbage model file (CatBoostError)"] = hf.rewrite_bundle(bundle, folder / "garbage.zip", garbage)
    cases["members not a list (TypeError)"] = hf.rewrite_bundle(
        bundle, folder / "members.zip", lambda f: hf.edit_manifest(f, lambda m: m.update(members="x")))
    truncated = folder / "truncated.zip"
    truncated.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    cases["truncated zip (BadZipFile)"] = truncated
    link = folder / "symlink.zip"  # a listed entry marked as a symlink to /etc/passwd
    with zipfile.ZipFile(bundle) as src:
        files = {i.filename: src.read(i) for i in src.infolist()}
    files["explainer_reference.json"] = b"/etc/passwd"
    hf.rehash(files)
    with zipfile.ZipFile(link, "w") as out:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            if name == "explainer_reference.json":
                info.external_attr = 0o120777 << 16
            out.writestr(info, data)
    cases["symlink entry in zip"] = link
    return cases


def table_cases(folder: Path, quick: bool) -> dict[str, Path]:
    return {
        "dictionary Parquet": hf.dictionary_parquet(folder),
        "1M-column CSV header": hf.wide_csv_header(folder),
        "xlsx shared-strings bomb": hf.shared_strings_bomb(folder, strings=2200 if not quick else 300,
                                                           chars=1_000_000),
        "xlsx shared-reference bomb": hf.shared_reference_bomb(folder),
        "xlsx sheet bomb": hf.sheet_bomb(folder, rows=300_000 if quick else 2_600_000),
        "xlsx forged <dimension>": hf.forged_dimension(folder),
        "CSV over the size limit": hf.big_csv(folder, megabytes=6.0),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller bombs, same checks")
    parser.add_argument("--only", help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="briefml-hostile-") as tmp:
        folder = Path(tmp)
        home = folder / "home"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BRIEFML_HOME": str(home), "BRIEFML_THREADS": "1",
               "BRIEFML_MAX_UPLOAD_MB": "5"}
        if args.quick:  # the smaller sheet bomb still breaks a (smaller) cell limit
            env["BRIEFML_MAX_CELLS"] = "5000000"
        bundle = _bundle(folder, env)
        unpacked = folder / "unpacked"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(unpacked)
        rows = folder / "rows.csv"
        cli = [PYTHON, "-m", "briefml.cli"]
        def selected(name: str) -> bool:
            return not args.only or args.only.lower() in name.lower()

        results.append(run("good bundle", "briefml predict", [*cli, "predict", str(bundle), str(rows),
                                                               "-o", str(folder / "out.csv")], env))
        for name, path in table_cases(folder, args.quick).items():
            if not selected(name):
                continue
            results.append(run(name, "upload reader", [PYTHON, "-c", UPLOAD, str(path)], env))
            results.append(run(name, "briefml predict", [*cli, "predict", str(bundle), str(path),
                                                         "-o", str(folder / "o.csv")], env))
            results.append(run(name, "predict.py", [PYTHON, str(unpacked / "predict.py"), str(path),
                                                    "-o", str(folder / "o.csv")], env))
            results.append(run(name, "briefml build", [*cli, "build", str(path), "--intent", "predict label",
                                                       "--budget", "10", "--out", str(folder / "b.zip")], env))
        for name, path in bundle_cases(folder, bundle, args.quick).items():
            if not selected(name):
                continue
            results.append(run(name, "briefml predict", [*cli, "predict", str(path), str(rows),
                                                         "-o", str(folder / "o.csv")], env))
            results.append(run(name, "predict.py --trust", [
                PYTHON, str(unpacked / "predict.py"), str(rows), "--bundle", str(path),
                "--trust", str(home / "keys" / "bundle-signing.pem.pub"), "-o", str(folder / "o.csv")], env))
            results.append(run(name, "predict.py", [PYTHON, str(unpacked / "predict.py"), str(rows),
                                                    "--bundle", str(path), "-o", str(folder / "o.csv")], env))
        _folder_cases(folder, bundle, rows, env, results, selected)
    _print(results)
    bad = [r for r in results if r.traceback or r.peak_mb > LIMIT_MB]
    return 1 if bad else 0


def _folder_cases(folder: Path, bundle: Path, rows: Path, env: dict, results: list, selected) -> None:
    """Unpacked bundles: a symlinked schema.json and an absolute path in the manifest."""
    import json

    if selected("folder: symlinked schema.json"):
        target = hf.symlink_folder(bundle, folder / "linked", folder / "outside_schema.json")
        results.append(run("folder: symlinked schema.json", "predict.py",
                           [PYTHON, str(target / "predict.py"), str(rows)], env))
    if selected("folder: absolute model path"):
        target = folder / "absolute"
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(target)
        manifest = json.loads((target / "manifest.json").read_text())
        outside = folder / "outside.cbm"
        outside.write_bytes((target / "models" / "member_0.cbm").read_bytes())
        manifest["members"][0]["file"] = str(outside)
        manifest["files"][str(outside)] = manifest["files"].pop("models/member_0.cbm")
        (target / "manifest.json").write_text(json.dumps(manifest))
        results.append(run("folder: absolute model path", "predict.py",
                           [PYTHON, str(target / "predict.py"), str(rows)], env))


def _print(results: list[Outcome]) -> None:
    print(flush=True)
    print(f"{'case':<36} {'entry point':<20} {'peak MB':>8} {'s':>6}  outcome")
    for r in results:
        flag = " TRACEBACK" if r.traceback else ""
        outcome = "ok" if r.code == 0 and not r.line.lower().startswith("error") else f"exit {r.code}"
        print(f"{r.case[:36]:<36} {r.entry:<20} {r.peak_mb:>8.0f} {r.seconds:>6.1f}  {outcome}{flag}: {r.line}")
    worst = max((r.peak_mb for r in results), default=0)
    print(f"\n{len(results)} runs; {sum(r.traceback for r in results)} tracebacks; "
          f"peak memory {worst:.0f} MB (goal < {LIMIT_MB} MB)")


if __name__ == "__main__":
    raise SystemExit(main())
