"""Print where the results are and the top deprecated-model users (the end of `make demo`)."""

from __future__ import annotations

import duckdb

from pipelines.lib.catalog import KNOWN_THROUGH_SQL
from pipelines.lib.duck import file_format, prepare, table_exists
from pipelines.lib.markdown import table
from pipelines.reports.report import catalog_line, catalog_too_old, iso_week_label, money
from pipelines.settings import RadarSettings


def main() -> None:
    s = RadarSettings.from_env()
    con = prepare(duckdb.connect(str(s.warehouse), read_only=True))
    rows = con.execute(
        "SELECT team, endpoint, model, lifecycle_status AS status, days_to_shutdown AS days_left, "
        "requests_28d, failed_requests_28d AS failed_28d, round(cost_usd_28d, 2) AS cost_28d, "
        "replacement_model, round(replacement_cost_usd_28d, 2) AS replacement_cost_28d "
        "FROM marts.deprecated_model_usage LIMIT 12"
    )
    columns = [d[0] for d in rows.description]
    data = rows.fetchall()
    unpriced = con.execute(
        "SELECT count(*), coalesce(sum(requests), 0) FROM marts.unpriced_usage").fetchall()[0]
    (callers,) = con.execute(
        "SELECT count(*) FROM marts.deprecated_model_callers").fetchall()[0]
    cheaper = con.execute("""
        SELECT c.team, c.model, c.replacement_model, c.replacement_cost_usd_28d,
               r.replacement_model, r.replacement_cost_usd_28d
        FROM marts.replacement_options AS c
        JOIN marts.replacement_options AS r USING (team, endpoint, model)
        WHERE c.cheapest AND c.option_rank > 1 AND r.option_rank = 1
        ORDER BY r.replacement_cost_usd_28d - c.replacement_cost_usd_28d DESC, c.team
        """).fetchall() if table_exists(con, "marts.replacement_options") else []
    (known,) = con.execute(KNOWN_THROUGH_SQL).fetchall()[0]
    storage = file_format(con, s.publish_dir / "radar.duckdb")
    con.close()
    print(f"\nSunset Radar, as of {s.as_of} (window {s.window_start} .. {s.as_of})")
    print(f"  warehouse (working file): {s.warehouse}")
    readers = (f", DuckDB storage {storage}: DuckDB {storage.rstrip('+').lstrip('v')} or later "
               "opens it" if storage else "")
    print(f"  BI copy (read-only):      {s.publish_dir / 'radar.duckdb'}{readers}")
    print(f"  reports:                  {s.reports_dir}")
    print("\nTop deprecated-model users (last 28 days):\n")
    print(table(columns, data, limit=12))
    print(f"\nCallers behind them: {callers} (source, project, API key, user and route; see "
          "marts.deprecated_model_callers)")
    if cheaper:
        named = "; ".join(f"{model} ({team}): {option}, {money(cost)} against {money(first)} on "
                          f"{recommended}" for team, model, option, cost, recommended, first
                          in cheaper[:3])
        more = f"; and {len(cheaper) - 3} more" if len(cheaper) > 3 else ""
        print(f"\nCheaper replacements named beside the recommended one: {named}{more} (see "
              "marts.replacement_options)")
    pairs = f"{unpriced[0]} model/endpoint pair{'' if unpriced[0] == 1 else 's'}"
    requests = f"{unpriced[1]:,} request{'' if unpriced[1] == 1 else 's'}"
    print(f"\nUnpriced usage: {pairs}, {requests} (see marts.unpriced_usage)")
    print(catalog_line({"catalog_known_through": known}, s.as_of))
    if catalog_too_old(known, s.as_of, s.catalog_max_age_days):
        print(f"  That is more than RADAR_CATALOG_MAX_AGE_DAYS ({s.catalog_max_age_days}): a "
              "retirement announced since may be missing (README, troubleshooting).")
    report = s.reports_dir / f"migration-status-{iso_week_label(s.as_of)}.html"
    if report.exists():
        print(f"\nThis week's report: {report}")


if __name__ == "__main__":
    main()
