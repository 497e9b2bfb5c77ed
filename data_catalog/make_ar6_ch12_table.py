"""Stack the AR6 WGI Chapter-12 per-region warming-level tables into one tidy CSV.

Reads the chapter's own files under ``data/ipcc_ar6_ch12`` (``regional_averages/*.json`` for tx35, HI41, DF6
and SM; ``q100/*_AFR.txt`` for the 100-year river discharge) and writes
``data/ipcc_ar6_ch12/ar6_ch12_regional_changes.csv`` with one row per index x region x key:

``index, region, key, gwl, period, p10, p50, p90, kind``

``gwl`` is the global warming level in degC (1.5, 2, 3, 4) or empty for period keys; ``period`` is the
reference or scenario period (e.g. ``baseline_1995-2014``, ``ssp585_2081-2100``) or empty; ``kind`` says
whether the three numbers are index values (``value``) or changes against 1995-2014 (``change``). The three
numbers are stored in the files in ascending order and read as the 10th, 50th and 90th percentiles across
CMIP6 models (chapter README). Run from the repository root: ``python data_catalog/make_ar6_ch12_table.py``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent / "data" / "ipcc_ar6_ch12"

#: file, index name, kind, mapping of the file's keys to (gwl, period)
JSON_TABLES = [
    ("CMIP6_tx35isimip_AR6_regional_averages.json", "tx35", "value",
     {"1.5": (1.5, ""), "2": (2.0, ""), "3": (3.0, ""), "4": (4.0, ""), "baseline": (None, "baseline_1995-2014"),
      "ssp126_mid": (None, "ssp126_2041-2060"), "ssp126_far": (None, "ssp126_2081-2100"),
      "ssp585_mid": (None, "ssp585_2041-2060"), "ssp585_far": (None, "ssp585_2081-2100")}),
    ("CMIP6_HI41_AR6_regional_averages.json", "HI41", "value",
     {"1.5K": (1.5, ""), "2.0K": (2.0, ""), "3.0K": (3.0, ""), "4.0K": (4.0, ""),
      "ssp585_1995-2014": (None, "baseline_1995-2014"), "ssp126_2041-2060": (None, "ssp126_2041-2060"),
      "ssp126_2081-2100": (None, "ssp126_2081-2100"), "ssp585_2041-2060": (None, "ssp585_2041-2060"),
      "ssp585_2081-2100": (None, "ssp585_2081-2100")}),
    ("CMIP6_DF6_AR6_regional_averages.json", "DF6", "value",
     {"GWL1.5": (1.5, ""), "GWL2.0": (2.0, ""), "GWL3.0": (3.0, ""), "GWL4.0": (4.0, ""),
      "ssp585_hist": (None, "baseline_1995-2014"), "ssp126_midfut": (None, "ssp126_2041-2060"),
      "ssp126_farfut": (None, "ssp126_2081-2100"), "ssp585_midfut": (None, "ssp585_2041-2060"),
      "ssp585_farfut": (None, "ssp585_2081-2100")}),
    ("CMIP6_SM_diff_perc2020_AR6_regional_averages.json", "SM", "change",
     {"1.5": (1.5, ""), "2": (2.0, ""), "3": (3.0, ""), "4": (4.0, ""),
      "ssp126_2041-2060": (None, "ssp126_2041-2060"), "ssp126_2081-2100": (None, "ssp126_2081-2100"),
      "ssp585_2041-2060": (None, "ssp585_2041-2060"), "ssp585_2081-2100": (None, "ssp585_2081-2100")}),
]

Q100_FILES = {"1.5_AFR.txt": (1.5, ""), "2.0_AFR.txt": (2.0, ""), "3.0_AFR.txt": (3.0, ""),
              "4.0_AFR.txt": (4.0, ""),
              "Q100_ssp585_1995-2014.nc_AFR.txt": (None, "baseline_1995-2014"),
              "Q100_ssp126_2041-2060.nc_AFR.txt": (None, "ssp126_2041-2060"),
              "Q100_ssp126_2080-2099.nc_AFR.txt": (None, "ssp126_2080-2099"),
              "Q100_ssp585_2041-2060.nc_AFR.txt": (None, "ssp585_2041-2060"),
              "Q100_ssp585_2080-2099.nc_AFR.txt": (None, "ssp585_2080-2099")}


def read_q100(path: Path) -> dict[str, list[float]]:
    """Blocks of a region name followed by three numbers (1e+20 = missing)."""
    tokens = path.read_text().split()
    out: dict[str, list[float]] = {}
    i = 0
    while i < len(tokens):
        name = tokens[i]
        if not re.fullmatch(r"[A-Z]+", name):
            raise ValueError(f"{path.name}: expected a region name at token {i}, got {name!r}")
        vals = [float(v) for v in tokens[i + 1:i + 4]]
        if all(v < 1e19 for v in vals):
            out[name] = vals
        i += 4
    return out


def main() -> None:
    rows = []
    for fname, index, kind, keys in JSON_TABLES:
        data = json.loads((HERE / "regional_averages" / fname).read_text())
        for key, (gwl, period) in keys.items():
            for region, vals in sorted((data.get(key) or {}).items()):
                if not vals or any(v is None for v in vals):
                    continue
                p10, p50, p90 = sorted(float(v) for v in vals)
                rows.append([index, region, key, "" if gwl is None else gwl, period, p10, p50, p90, kind])
    for fname, (gwl, period) in Q100_FILES.items():
        for region, vals in sorted(read_q100(HERE / "q100" / fname).items()):
            p10, p50, p90 = sorted(vals)
            rows.append(["Q100", region, fname, "" if gwl is None else gwl, period, p10, p50, p90, "value"])
    with open(HERE / "ar6_ch12_regional_changes.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["index", "region", "key", "gwl", "period", "p10", "p50", "p90", "kind"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
