"""Issue #22 items 3, 4 and 5: a bundle is read only as far as its manifest lists, each file
bounded; its structure is validated; and only a signature says who built it.

Every case is a real bundle written by the engine and then changed the way the issue's
probes changed it (`bench.hostile_files`); a few run through predict.py in a process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from bench import hostile_files as hf
from core import runtime
from core.bundle import build_bundle, load_bundle, signing
from core.errors import BundleError
from tests.core import model_factories as mf


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A signed classifier bundle, its key, rows to predict, and an unsigned regressor bundle."""
    folder = tmp_path_factory.mktemp("hostile")
    key_path = folder / "keys" / "bundle-signing.pem"
    key = signing.load_or_create_key(key_path)
    df, schema = mf.breast_cancer()
    model = mf.model_of(schema, mf.catboost_member(df, schema, iterations=8))
    bundle = build_bundle(model, folder / "model.zip", input_example=df.head(), signing_key=key)
    rows = folder / "rows.csv"
    df.drop(columns=["diagnosis"]).head(10).to_csv(rows, index=False)
    other_df, other_schema = mf.diabetes()
    other = build_bundle(mf.model_of(other_schema, mf.catboost_member(other_df, other_schema, iterations=5)),
                         folder / "other.zip")
    return {"folder": folder, "bundle": bundle, "key_path": key_path, "rows": rows, "other": other}


def _changed(made, tmp_path, change, name="changed.zip"):
    return hf.rewrite_bundle(made["bundle"], tmp_path / name, change)


def _trust(made) -> list[bytes]:
    return [signing.public_path(made["key_path"]).read_bytes()]


def test_the_signing_key_is_private_and_has_a_public_half(made):
    assert stat.S_IMODE(os.stat(made["key_path"]).st_mode) == 0o600
    assert signing.public_path(made["key_path"]).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert signing.load_or_create_key(made["key_path"]).public_key() == \
        signing.load_or_create_key(made["key_path"]).public_key()  # created once, then reused


def test_a_signed_bundle_verifies_and_names_its_key(made):
    loaded = load_bundle(made["bundle"], trust=_trust(made))
    assert loaded.signed_by == runtime.public_key_id(signing.load_or_create_key(made["key_path"]).public_key())


def test_an_unlisted_zip_bomb_is_never_read_and_a_listed_one_is_refused_by_size(made, tmp_path, monkeypatch):
    bomb = hf.zip_bomb_bundle(made["bundle"], tmp_path / "bomb.zip", megabytes=64)
    assert "padding.bin" not in runtime.read_bundle_files(bomb)
    assert load_bundle(bomb, trust=_trust(made)).signed_by  # the listed files are intact and signed
    monkeypatch.setenv("BRIEFML_MAX_BUNDLE_FILE_MB", "0.01")
    with pytest.raises(BundleError, match=r"^The bundle file '[^']+' is [\d.]+ KiB, over the 10.2 KiB limit for one file"):
        load_bundle(made["bundle"])


def test_a_swapped_member_with_a_rehashed_manifest_fails_the_signature(made, tmp_path):
    def swap(files):
        with zipfile.ZipFile(made["other"]) as archive:
            files["models/member_0.cbm"] = archive.read("models/member_0.cbm")
        hf.rehash(files)
    swapped = _changed(made, tmp_path, swap)
    with pytest.raises(BundleError, match=r"^The bundle's signature does not verify against any trusted key"):
        load_bundle(swapped, trust=_trust(made))
    # without a key the checksums match, but the model does not fit the schema: refused too
    with pytest.raises(BundleError, match=r"^The model file 'models/member_0.cbm' is a regressor but schema.json says"):
        load_bundle(swapped)


def test_a_rehashed_change_of_any_listed_file_breaks_the_signature(made, tmp_path):
    def edit(files):
        files["README.md"] = b"# changed\n"
        hf.rehash(files)
    with pytest.raises(BundleError, match="signature does not verify"):
        load_bundle(_changed(made, tmp_path, edit), trust=_trust(made))
    unsigned = _changed(made, tmp_path, lambda f: f.pop("signature.json"), name="unsigned.zip")
    with pytest.raises(BundleError, match=r"^The bundle is not signed"):
        load_bundle(unsigned, trust=_trust(made))
    assert load_bundle(unsigned, trust=_trust(made), require_signature=False).signed_by is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.update(files={}), "manifest.json has no list of files|lists no files"),
    (lambda m: m["files"].pop("schema.json"), "does not list schema.json"),
    (lambda m: m["members"][0].update(file="/etc/passwd"), "names a model file the manifest does not list"),
    (lambda m: m["files"].update({"/etc/passwd": "0" * 64}), r"lists a file outside the bundle \('/etc/passwd'\)"),
    (lambda m: m["files"].update({"models/../../x": "0" * 64}), "lists a file outside the bundle"),
    (lambda m: m["members"][0].update(weight="1"), "has weight '1'; a weight must be a finite number above 0"),
    (lambda m: m["members"][0].update(weight=-2), "has weight -2"),
    (lambda m: m["members"][0].update(kind="pickle"), "unknown kind 'pickle'"),
    (lambda m: m.update(members="x"), "lists no model members"),
])
def test_a_manifest_off_its_declared_structure_is_one_line(made, tmp_path, edit, message):
    path = _changed(made, tmp_path, lambda f: hf.edit_manifest(f, edit))
    with pytest.raises(BundleError, match=message) as refused:
        load_bundle(path)
    assert "\n" not in str(refused.value)


def test_nan_weights_deep_json_garbage_models_and_wrong_task_types_are_refused(made, tmp_path):
    nan = _changed(made, tmp_path, lambda f: f.update(
        {"manifest.json": f["manifest.json"].replace(b'"weight": 1.0', b'"weight": NaN')}), "nan.zip")
    with pytest.raises(BundleError, match=r"manifest.json cannot be read \(NaN is not a number a bundle may hold\)"):
        load_bundle(nan)

    def deep(files):
        files["schema.json"] = hf.deep_json(100_000)
        hf.rehash(files)
    with pytest.raises(BundleError, match="schema.json is nested too deeply"):
        load_bundle(_changed(made, tmp_path, deep, "deep.zip"))

    def garbage(files):
        files["models/member_0.cbm"] = b"not a model" * 50
        hf.rehash(files)
    with pytest.raises(BundleError, match=r"'models/member_0.cbm' cannot be loaded \(CatBoostError\)"):
        load_bundle(_changed(made, tmp_path, garbage, "garbage.zip"))

    def task(value, manifest_too=True):
        def change(files):
            schema = json.loads(files["schema.json"])
            schema["task_type"] = value
            files["schema.json"] = json.dumps(schema).encode()
            if manifest_too:
                hf.edit_manifest(files, lambda m: m.update(task_type=value))
            hf.rehash(files)
        return change
    with pytest.raises(BundleError, match="schema.json says regression but manifest.json says 'binary'"):
        load_bundle(_changed(made, tmp_path, task("regression", manifest_too=False), "task0.zip"))
    with pytest.raises(BundleError, match="is a classifier but schema.json says the task is regression"):
        load_bundle(_changed(made, tmp_path, task("regression"), "task.zip"))
    with pytest.raises(BundleError, match="has task type 'ranking', not one of binary, multiclass, regression"):
        load_bundle(_changed(made, tmp_path, task("ranking"), "task2.zip"))


def test_a_truncated_zip_and_a_symlink_entry_are_refused(made, tmp_path):
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(made["bundle"].read_bytes()[:2000])
    with pytest.raises(BundleError, match="is not a bundle zip file"):
        load_bundle(truncated)
    with zipfile.ZipFile(made["bundle"]) as src:
        files = {i.filename: src.read(i) for i in src.infolist()}
    files["explainer_reference.json"] = b"/etc/passwd"
    hf.rehash(files)
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as out:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16) if name == "explainer_reference.json" else (0o644 << 16)
            out.writestr(info, data)
    with pytest.raises(BundleError, match="'explainer_reference.json' is a symbolic link"):
        load_bundle(link)


def test_folder_bundles_refuse_symlinks_and_absolute_paths(made, tmp_path):
    linked = hf.symlink_folder(made["bundle"], tmp_path / "linked", tmp_path / "outside.json")
    with pytest.raises(BundleError, match="'schema.json' is a symbolic link"):
        load_bundle(linked)
    folder = tmp_path / "absolute"
    with zipfile.ZipFile(made["bundle"]) as archive:
        archive.extractall(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    outside = tmp_path / "outside.cbm"
    outside.write_bytes((folder / "models" / "member_0.cbm").read_bytes())
    manifest["members"][0]["file"] = str(outside)
    manifest["files"][str(outside)] = manifest["files"].pop("models/member_0.cbm")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="lists a file outside the bundle"):
        load_bundle(folder)


def _predict_py(made, *args: str) -> subprocess.CompletedProcess:
    folder = made["folder"] / "unpacked"
    if not folder.exists():
        with zipfile.ZipFile(made["bundle"]) as archive:
            archive.extractall(folder)
    return subprocess.run([sys.executable, str(folder / "predict.py"), str(made["rows"]), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_predict_py_verifies_with_trust_and_otherwise_says_it_is_unverified(made, tmp_path):
    done = _predict_py(made)
    assert done.returncode == 0, done.stderr
    assert "warning: the bundle is unverified: its files match manifest.json, which catches damage but not " \
           "deliberate changes." in done.stderr
    stranger = tmp_path / "stranger.pem"
    signing.load_or_create_key(stranger)
    public = str(signing.public_path(made["key_path"]))
    trusted = _predict_py(made, "--trust", str(signing.public_path(stranger)), "--trust", public)
    assert trusted.returncode == 0 and "unverified" not in trusted.stderr, trusted.stderr


def test_predict_py_gives_one_line_for_a_hostile_bundle(made, tmp_path):
    deep = _changed(made, tmp_path, lambda f: (f.update({"schema.json": hf.deep_json(100_000)}), hf.rehash(f)))
    done = _predict_py(made, "--bundle", str(deep))
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: The bundle's schema.json is nested too deeply to be real. "
                                   "Download it again.")


def _briefml_predict(made, bundle, home, *args: str) -> subprocess.CompletedProcess:
    from pathlib import Path

    return subprocess.run([sys.executable, "-m", "briefml.cli", "predict", str(bundle), str(made["rows"]),
                           "-o", str(home / "out.csv"), *args], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "BRIEFML_HOME": str(home)},
                          cwd=Path(__file__).resolve().parents[2])


def test_briefml_predict_refuses_what_its_keys_do_not_sign_unless_told_whom_to_trust(made, tmp_path):
    home = tmp_path / "home"  # another machine: its own key, not the builder's
    stranger = _briefml_predict(made, made["bundle"], home)
    assert stranger.returncode == 2
    assert " ".join(stranger.stderr.split()).startswith(
        "Error: The bundle's signature does not verify against any trusted key (it names key ")
    assert "Traceback" not in stranger.stderr
    trusted = _briefml_predict(made, made["bundle"], home, "--trust", str(signing.public_path(made["key_path"])))
    assert trusted.returncode == 0, trusted.stderr
