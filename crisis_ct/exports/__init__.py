"""Exports: the sites, admin areas, tasks, submissions and the 4W as CSV (with an HXL hashtag
row), XLSX and GeoJSON, for the API (`/api/v1/exports/…`) and the CLI (`crisis-ct export`).

Every row is what the caller's projection (crisis_ct.projection) lets them see — the exports
choose no field themselves — and is streamed: rows are read from the database in batches and
written as they come, so 100,000 submissions never sit in memory at once.

- `columns`: each dataset's columns, headers and HXL hashtags;
- `sources`: the rows of each dataset, as the caller's projection gives them;
- `fourw`: the 4W (who, what, where, when) of the mitigation tasks;
- `writers`: CSV, XLSX (openpyxl write-only) and GeoJSON, as byte chunks;
- `api`, `cli`: the thin HTTP and command-line ends.
"""
