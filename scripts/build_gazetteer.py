"""Build service/data/places.tsv and countries.tsv from the data files inside the jionlp wheel.

Usage: python3 scripts/build_gazetteer.py [path/to/jionlp-*.whl]

Without a path the wheel is fetched with `pip download --no-deps jionlp` into a temporary folder.
Only the wheel's data is taken (Apache-2.0); jionlp is never imported, so its GPLv3 dependency
jiojio never becomes ours. jieba's dictionary (already a run-time dependency) supplies the ordinary
words that contain a place name without naming the place (not_places.txt).
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jieba

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "service" / "data"

# County-level units proper; functional zones (开发区, 示范区, 管委会…) are not administrative divisions.
COUNTY_SUFFIX = re.compile(r"(自治县|自治旗|林区|特区|县|区|市|旗)$")
NOT_DIVISION = re.compile(r"开发区|产业|园区|管理区|示范区|实验区|管委会|委员会|新城$|行政区划|海域|聚集区")
# jieba tags foreign names as person names (nr, nrt) as often as places; those are still names.
NAME_TAGS = {"ns", "nr", "nrt", "nrfg", "nz", "j"}


def jieba_tags() -> dict[str, str]:
    """Map each word of jieba's main dictionary to its part-of-speech tag."""
    tags = {}
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


def two_char_county_ok(name: str, tags: dict[str, str]) -> bool:
    """Accept a two-character county name only if general language knows it as a place (or not at all)."""
    return tags.get(name, "ns") == "ns"


def country_form_ok(form: str, tags: dict[str, str]) -> bool:
    """Accept a country's short name unless general language tags it as a common word (加纳 v, 马里 q)."""
    return len(form) >= 2 and tags.get(form, "ns") in NAME_TAGS


def fetch_wheel(folder: Path) -> Path:
    """Download the jionlp wheel alone (no dependencies) into folder."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "jionlp", "-d", str(folder)],
        check=True,
    )
    return next(folder.glob("jionlp-*.whl"))


def read_wheel(wheel: Path) -> tuple[str, str, str]:
    """Return (version, china_location text, world_location text) from the wheel."""
    with zipfile.ZipFile(wheel) as outer:
        version = re.search(r"jionlp-([^-]+)-", wheel.name).group(1)
        inner = zipfile.ZipFile(io.BytesIO(outer.read("jionlp/dictionary/china_location.zip")))
        china = inner.read("china_location.txt").decode("utf-8").replace("\r", "")
        world = outer.read("jionlp/dictionary/world_location.txt").decode("utf-8").replace("\r", "")
    return version, china, world


def china_rows(text: str, tags: dict[str, str]) -> list[tuple[str, ...]]:
    """Rows (name, short, level, province, prefecture, code, forms) for levels 0-2 of the tree."""
    rows = []
    province = province_short = prefecture = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip("\t"))
        fields = line.strip("\t").split("\t")
        name = fields[0]
        if not name or depth > 2:  # towns and villages are never places here
            continue
        short = fields[2] if len(fields) >= 3 else ""
        code = fields[1] if len(fields) >= 2 else ""
        if depth == 0:
            province, province_short = name, short
            prefecture = None
            forms = [name] + ([short] if short != name and len(short) >= 2 else [])
            rows.append((name, short, "province", name, "", code, forms))
        elif depth == 1:
            prefecture = None
            if NOT_DIVISION.search(name) or name in (province, province_short):
                # 省直辖行政区划, and 北京市 under 北京市: counties hang on the province directly
                continue
            prefecture = name
            forms = [name]
            if len(short) >= 2 and short != name:
                forms.append(short)
            if name.endswith("自治州") and len(short) >= 2 and not short.endswith("州"):
                forms.append(short + "州")  # 黔东南州: the usual written short form
            rows.append((name, short, "prefecture", province, "", code, forms))
        else:
            if not COUNTY_SUFFIX.search(name) or NOT_DIVISION.search(name):
                continue
            # A two-character name that general language tags otherwise (城区 n, 郊区 s, 矿区 n) is a common word.
            if len(name) == 2 and not two_char_county_ok(name, tags):
                continue
            rows.append((name, short, "county", province, prefecture or "", code, [name]))
    return dedupe(rows)


def dedupe(rows: list[tuple]) -> list[tuple]:
    """Drop exact repeats (the data lists a few units twice)."""
    seen, out = set(), []
    for row in rows:
        key = row[:5]
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def country_rows(text: str, tags: dict[str, str]) -> list[tuple[str, ...]]:
    """Rows (short, full, continent, forms) for each country of the world list."""
    rows, continent = [], ""
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.endswith(":"):
            continent = line[:-1]
            continue
        fields = line.split("\t")
        short, full = fields[0], fields[1]
        forms = [full] + ([short] if short != full and country_form_ok(short, tags) else [])
        rows.append((short, full, continent, forms))
    return rows


def not_place_words(places: list[tuple], countries: list[tuple], tags: dict[str, str]) -> list[str]:
    """Dictionary words that hold a place form without naming the place, for the matcher to prefer.

    Two kinds: words around a form that is not their start (拉美国家, 沿海地带, 示范县) or idioms and
    set phrases that start with one (长治久安, 大同小异); and words straddling the edge of a county
    name with a one-character stem (和县 in 市和县级, 范县 in 示范县城), the riskiest forms.
    """
    forms = {form for *_, row_forms in places for form in row_forms}
    forms |= {form for *_, row_forms in countries for form in row_forms}
    stems = {form[0] for form in forms if len(form) == 2 and form.endswith("县")}
    words = set()
    for word, tag in tags.items():
        if tag in NAME_TAGS or tag == "nt" or word in forms or len(word) > 8:
            continue
        n = len(word)
        inside = [(i, j) for i in range(n) for j in range(i + 2, n + 1) if j - i < n and word[i:j] in forms]
        if any(i > 0 for i, _ in inside) or (inside and (tag == "i" or (tag == "l" and n == 4))):
            words.add(word)
        elif 2 <= n <= 3 and word[-1] in stems:
            words.add(word)
    return sorted(words)


def header(version: str) -> str:
    return (
        f"# generated by scripts/build_gazetteer.py from jionlp {version} data "
        "(dictionary/china_location.zip, dictionary/world_location.txt), Apache-2.0; do not edit by hand\n"
    )


def write_table(path: Path, version: str, columns: str, rows: list[tuple]) -> None:
    """Write rows whose last field is a list of surface forms, under the source header."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(header(version))
        out.write(f"# {columns}\tforms (recognized surface forms, |-separated)\n")
        for *fields, forms in rows:
            out.write("\t".join([*fields, "|".join(dict.fromkeys(forms))]) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="jionlp wheel (downloaded when omitted)")
    parser.add_argument("--out", type=Path, default=DATA)
    args = parser.parse_args(argv)
    tags = jieba_tags()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        version, china, world = read_wheel(wheel)
    args.out.mkdir(parents=True, exist_ok=True)
    places = china_rows(china, tags)
    write_table(args.out / "places.tsv", version, "name\tshort\tlevel\tprovince\tprefecture\tcode", places)
    countries = country_rows(world, tags)
    write_table(args.out / "countries.tsv", version, "short\tfull\tcontinent", countries)
    with open(args.out / "not_places.txt", "w", encoding="utf-8") as out:
        out.write(
            "# generated by scripts/build_gazetteer.py from jieba's dict.txt (MIT): words holding a place form\n"
            "# that do not name the place (拉美国家, 长治久安, 示范县); the matcher prefers them\n"
        )
        out.write("\n".join(not_place_words(places, countries, tags)) + "\n")
    print(f"{len(places)} places, {len(countries)} countries from jionlp {version} -> {args.out}")


if __name__ == "__main__":
    main()
