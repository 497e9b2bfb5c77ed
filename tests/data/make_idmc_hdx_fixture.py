"""Regenerate ``idmc_hdx_events_fixture.csv`` from the bundled GIDD event table (run from the repo root).

The fixture mimics IDMC's event export on HDX: a CSV whose second row holds HXL hashtags. It keeps 14
countries (plus Kosovo ``XKX`` and Abyei ``AB9``) for 2008-2022, and adds two edge rows: a Wildfire event
(ignored: not a modelled hazard) and a Flood event with a blank ``new_displacement`` for a country-year
that has no other flood figure (-> ``not_reported``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from climmig.catalog import load_catalog

COUNTRIES = ["SOM", "ETH", "KEN", "DJI", "SDN", "SSD", "UGA", "TZA", "BGD", "NPL", "PAK", "LKA", "MOZ", "MWI",
             "XKX", "AB9"]
HEADER = ["iso3", "country_name", "year", "event_name", "hazard_category_name", "hazard_type_name",
          "hazard_sub_type_name", "new_displacement", "new_displacement_rounded", "start_date"]
HXL = ["#country+code", "#country+name", "#date+year", "#crisis+name", "#cause+category", "#cause+type",
       "#cause+subtype", "#affected+idps+ind+newdisp", "#affected+idps+ind+newdisp+rounded", "#date+start"]


def main() -> None:
    ev = load_catalog("data_catalog/catalog.yaml").open("idmc_gidd_weather_events")
    ev = ev[ev["iso3"].isin(COUNTRIES)].sort_values(["iso3", "year", "Date of Event (start)"])
    rows = [[r.iso3, r.country_name, r.year, r._4, "Weather related", r.hazard_type, r._10,
             int(r._7), int(r._6), r._5] for r in ev.itertuples()]
    rows.append(["KEN", "Kenya", 2019, "Kenya: Wildfire - Laikipia - 01/02/2019", "Weather related", "Wildfire",
                 "Wildfire", 120, 120, "2019-02-01"])
    rows.append(["DJI", "Djibouti", 2016, "Djibouti: Flood - unknown - 01/04/2016", "Weather related", "Flood",
                 "Flood", "", "", "2016-04-01"])
    out = Path(__file__).with_name("idmc_hdx_events_fixture.csv")
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerow(HXL)
        w.writerows(rows)


if __name__ == "__main__":
    main()
