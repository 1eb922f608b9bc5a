"""Hostile tables and bundles, generated on the fly (for `bench.hostile` and the tests).

Each function writes one file under `folder` and returns its path. The files are small on
disk and expand enormously when read naively; sizes can be scaled down for fast tests.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


# --------------------------------------------------------------------------- tables


def dictionary_parquet(folder: Path, *, rows: int = 8000, value_chars: int = 1_000_000) -> Path:
    """A Parquet file whose one dictionary value (`value_chars` long) fills every row:
    a few hundred KB on disk, rows x value_chars bytes once decoded (8 GB by default)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()),
                                          pa.array(["x" * value_chars]))
    table = pa.table({"label": pa.array([i % 2 for i in range(rows)]), "text": text})
    path = folder / "dictionary_bomb.parquet"
    pq.write_table(table, path, compression="zstd")
    return path


def wide_csv_header(folder: Path, *, columns: int = 1_000_000) -> Path:
    """A CSV whose header names `columns` columns (7.9 MB for a million) and one data row."""
    path = folder / "wide_header.csv"
    header = ",".join(f"c{i}" for i in range(columns))
    path.write_text(header + "\n" + ",".join("1" for _ in range(min(columns, 3))) + "\n")
    return path


def big_csv(folder: Path, *, megabytes: float = 6.0) -> Path:
    """A plain CSV of about `megabytes` MiB (for size limits)."""
    path = folder / "big.csv"
    line = b"1.5,abc,2\n"
    rows = int(megabytes * 1024 * 1024 / len(line)) + 1
    path.write_bytes(b"a,b,c\n" + line * rows)
    return path


def _xlsx(path: Path, sheet_chunks, shared_chunks=None, dimension: str | None = None) -> Path:
    """Write a minimal .xlsx; the sheet's cells (and shared strings) are streamed in chunks,
    so a bomb never exists whole in memory here either."""
    rels = (f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            + (f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
               if shared_chunks is not None else "") + "</Relationships>")
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if shared_chunks is not None else "") + "</Types>")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                         f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                         '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        if shared_chunks is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                out.write(f'<sst xmlns="{_MAIN}">'.encode())
                for chunk in shared_chunks:
                    out.write(chunk.encode())
                out.write(b"</sst>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(f'<worksheet xmlns="{_MAIN}">'.encode())
            if dimension:
                out.write(f'<dimension ref="{dimension}"/>'.encode())
            out.write(b"<sheetData>")
            for chunk in sheet_chunks:
                out.write(chunk.encode())
            out.write(b"</sheetData></worksheet>")
    return path


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def shared_strings_bomb(folder: Path, *, strings: int = 4000, chars: int = 1_000_000) -> Path:
    """An .xlsx whose shared strings hold `strings` x `chars` characters (4 GB by default)
    behind a two-cell sheet."""
    piece = "<si><t>" + "a" * chars + "</t></si>"
    sheet = ['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>']
    return _xlsx(folder / "shared_strings_bomb.xlsx", sheet, (piece for _ in range(strings)))


def shared_reference_bomb(folder: Path, *, rows: int = 200_000, chars: int = 50_000) -> Path:
    """An .xlsx whose every cell points at one long shared string: small shared strings, a
    sheet of short cells, and rows x 2 x chars characters once each cell holds its text."""
    sheet = (('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'),
             *(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c><c r="B{r}" t="s"><v>0</v></c></row>'
               for r in range(2, rows + 2)))
    return _xlsx(folder / "shared_reference_bomb.xlsx", sheet, iter(["<si><t>" + "z" * chars + "</t></si>"]))


def sheet_bomb(folder: Path, *, rows: int = 3_000_000, columns: int = 20) -> Path:
    """An .xlsx of `rows` x `columns` one-digit cells (60M cells by default): a few MB
    compressed, tens of GB as openpyxl's Python objects."""
    def chunks():
        for r in range(1, rows + 1):
            yield f'<row r="{r}">' + "".join(f"<c><v>{c % 10}</v></c>" for c in range(columns)) + "</row>"
    return _xlsx(folder / "sheet_bomb.xlsx", chunks())


def forged_dimension(folder: Path, *, columns: int = 20_000, rows: int = 3, name: str = "forged_dimension.xlsx") -> Path:
    """An .xlsx that declares A1:B2 but holds `columns` columns: read by the declaration it
    silently loses all but two."""
    def row(r: int) -> str:
        cells = "".join(f'<c r="{_column_letters(c)}{r}" t="inlineStr"><is><t>c{c}</t></is></c>' if r == 1
                        else f'<c r="{_column_letters(c)}{r}"><v>{r * c}</v></c>' for c in range(1, columns + 1))
        return f'<row r="{r}">{cells}</row>'
    return _xlsx(folder / name, (row(r) for r in range(1, rows + 1)), dimension="A1:B2")


# --------------------------------------------------------------------------- bundles


def rewrite_bundle(source: Path, target: Path, change) -> Path:
    """Copy a bundle zip, letting `change(files)` edit the {name: bytes} mapping."""
    with zipfile.ZipFile(source) as archive:
        files = {i.filename: archive.read(i) for i in archive.infolist()}
    change(files)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


def rehash(files: dict[str, bytes]) -> None:
    """Make the manifest match the files again (what a tamperer would do)."""
    import hashlib

    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())
                         if n not in ("manifest.json", "signature.json")}
    files["manifest.json"] = json.dumps(manifest).encode()


def edit_manifest(files: dict[str, bytes], edit) -> None:
    manifest = json.loads(files["manifest.json"])
    edit(manifest)
    files["manifest.json"] = json.dumps(manifest).encode()


def zip_bomb_bundle(source: Path, target: Path, *, megabytes: int = 4096) -> Path:
    """A bundle with an extra entry of `megabytes` MiB of zeros (a few MB compressed)."""
    import shutil

    shutil.copy(source, target)
    with zipfile.ZipFile(target, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("padding.bin", "w", force_zip64=True) as out:
            block = b"\0" * (1024 * 1024)
            for _ in range(megabytes):
                out.write(block)
    return target


def symlink_folder(source: Path, target: Path, outside: Path) -> Path:
    """An unpacked bundle whose schema.json is a symlink to a file outside the folder."""
    with zipfile.ZipFile(source) as archive:
        archive.extractall(target)
    outside.write_bytes((target / "schema.json").read_bytes())
    (target / "schema.json").unlink()
    (target / "schema.json").symlink_to(outside)
    return target


def deep_json(depth: int = 100_000) -> bytes:
    return ("[" * depth + "]" * depth).encode()
