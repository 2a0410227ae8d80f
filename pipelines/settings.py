"""The one place that reads configuration (the contract's `RADAR_*` variables).

Every setting has a default that works on a fresh checkout, relative to the repository root,
and every one can be overridden by an environment variable of exactly the contract's name.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = REPO_ROOT / "sql"
PACKAGE_DIR = Path(__file__).resolve().parent
CATALOG_DATA_DIR = PACKAGE_DIR / "catalog_data"
SAMPLE_TEAMS_FILE = PACKAGE_DIR / "sample" / "teams.csv"

#: Reporting window of the contract: the 28 days ending on as-of, inclusive.
WINDOW_DAYS = 28
#: A source whose newest usage day is more than this many days before as-of is stale: a daily
#: export lands the day after its day, so two days late is one export missing.
STALE_AFTER_DAYS = 2
#: Reconciliation tolerance (contract: configurable, default 1% or $0.01, whichever is
#: larger): a share of the billed amount, ``RADAR_RECONCILIATION_TOLERANCE_SHARE``, and an
#: amount in USD, ``RADAR_RECONCILIATION_TOLERANCE_USD``.
RECONCILIATION_TOLERANCE_SHARE = Decimal("0.01")
RECONCILIATION_TOLERANCE_USD = Decimal("0.01")
#: WARN when more of the window's requests than this share are unpriced
#: (``RADAR_UNPRICED_MAX_SHARE``).
UNPRICED_MAX_SHARE = Decimal("0.05")
#: ``RADAR_REQUEST_LEDGER_DAYS`` keeps the gateway request ledger to the last N days up to
#: as-of; it may not be shorter than the reporting window, whose exports are re-sent most.
MIN_REQUEST_LEDGER_DAYS = WINDOW_DAYS
#: WARN when the catalog's newest knowledge of retirements (its sources' date, or its newest
#: announcement) is older than this many days before as-of (``RADAR_CATALOG_MAX_AGE_DAYS``).
#: OpenAI has announced a retirement every month or two, most with about 90 days' notice or
#: more: a catalog 60 days old may miss one, and still leaves a month to act once refreshed.
CATALOG_MAX_AGE_DAYS = 60
#: The DuckDB storage format of the BI copy (``RADAR_PUBLISH_STORAGE_VERSION``): the oldest
#: DuckDB release that must open it. The working file is in the format of the DuckDB this
#: project pins (2.0's, which no DuckDB before 2.0.0 reads); BI tools embed their own DuckDB,
#: often a 1.x one (a DBeaver or Metabase driver, an older duckdb_engine), so the copy they
#: open is written in the format every DuckDB from 1.0 reads.
PUBLISH_STORAGE_VERSION = "v1.0.0"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var, "").strip()
    path = Path(value) if value else default
    return path if path.is_absolute() else (Path.cwd() / path)


def _iso_date(var: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{var} must be an ISO date YYYY-MM-DD, got {value!r}") from exc


def _amount(var: str, default: Decimal, maximum: Decimal) -> Decimal:
    """A decimal setting from 0 to ``maximum`` with at most 6 decimals (the SQL's scale)."""
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not 0 <= amount <= maximum or amount != round(amount, 6):
        raise ValueError(f"{var} must be a number from 0 to {maximum} with at most 6 "
                         f"decimals, got {value!r}")
    return amount


def _ledger_days(var: str) -> int | None:
    """Days the request ledger keeps (unset: all of them)."""
    value = os.environ.get(var, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < MIN_REQUEST_LEDGER_DAYS:
        raise ValueError(f"{var} must be a whole number of days, at least "
                         f"{MIN_REQUEST_LEDGER_DAYS} (the reporting window), or unset to keep "
                         f"every request's key; got {value!r}")
    return int(value)


def _days(var: str, default: int) -> int:
    """A whole, positive number of days (unset: ``default``)."""
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{var} must be a whole number of days, at least 1; got {value!r}")
    return int(value)


def _storage_version(var: str, default: str) -> str:
    """A DuckDB release as ``vX.Y.Z``, or ``latest`` (unset: ``default``). Whether DuckDB
    knows that release is for DuckDB to say, when the copy is written."""
    value = os.environ.get(var, "").strip()
    if not value:
        return default
    if value != "latest" and not re.fullmatch(r"v\d+\.\d+\.\d+", value):
        raise ValueError(f"{var} must be a DuckDB release such as v1.0.0 (the oldest DuckDB "
                         f"that must open the BI copy), or latest; got {value!r}")
    return value


def _flag(var: str, default: bool) -> bool:
    """A yes/no setting: 1, true or yes; 0, false or no (unset: ``default``)."""
    value = os.environ.get(var, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise ValueError(f"{var} must be 1, true or yes, or 0, false or no; got {value!r}")


def today_utc() -> dt.date:
    """Today in UTC: the default as-of, and the bound no mistyped as-of may push past."""
    return dt.datetime.now(dt.UTC).date()


def parse_as_of(value: str | None, today: dt.date | None = None) -> dt.date:
    """`RADAR_AS_OF` as a date; empty means ``today`` (the day the run started, where there
    is a run), else today in UTC."""
    if value is None or not value.strip():
        return today or today_utc()
    return _iso_date("RADAR_AS_OF", value)


@dataclass(frozen=True)
class RadarSettings:
    landing_dir: Path
    warehouse: Path
    teams_file: Path
    catalog_overrides: Path | None
    as_of: dt.date
    publish_dir: Path
    reports_dir: Path
    sync_start: dt.date
    duckdb_memory_limit: str = "768MB"
    tolerance_share: Decimal = RECONCILIATION_TOLERANCE_SHARE
    tolerance_usd: Decimal = RECONCILIATION_TOLERANCE_USD
    unpriced_max_share: Decimal = UNPRICED_MAX_SHARE
    lifecycle_overrides: Path | None = None
    request_ledger_days: int | None = None
    catalog_max_age_days: int = CATALOG_MAX_AGE_DAYS
    #: the API sync also lists the names of projects, keys (with their owners) and users
    sync_names: bool = True
    #: the DuckDB storage format of the BI copy (``PUBLISH_STORAGE_VERSION``)
    publish_storage_version: str = PUBLISH_STORAGE_VERSION
    #: ``RADAR_BILLING_ACCOUNTS``: the account each provider bills (FOCUS's BillingAccountId
    #: where the exports name none); None: not set
    billing_accounts: Path | None = None

    @property
    def window_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=WINDOW_DAYS - 1)

    @property
    def request_ledger_kept_from(self) -> dt.date | None:
        """The first day whose gateway request keys the ledger keeps (None: every day): the
        last ``request_ledger_days`` days up to as-of, inclusive, like the window; never up
        to a day after today (a mistyped as-of would remove keys for good)."""
        if self.request_ledger_days is None:
            return None
        end = min(self.as_of, today_utc())
        return end - dt.timedelta(days=self.request_ledger_days - 1)

    @classmethod
    def from_env(cls, as_of: str | None = None, today: dt.date | None = None) -> RadarSettings:
        """Read the contract's variables now; ``as_of`` (if given) wins over RADAR_AS_OF, and
        with neither the as-of is ``today`` (if given) or the UTC day of the call."""
        day = parse_as_of(as_of if as_of else os.environ.get("RADAR_AS_OF"), today)
        overrides = os.environ.get("RADAR_CATALOG_OVERRIDES", "").strip()
        lifecycle_overrides = os.environ.get("RADAR_LIFECYCLE_OVERRIDES", "").strip()
        billing_accounts = os.environ.get("RADAR_BILLING_ACCOUNTS", "").strip()
        sync_start_raw = os.environ.get("RADAR_SYNC_START", "").strip()
        sync_start = (
            _iso_date("RADAR_SYNC_START", sync_start_raw)
            if sync_start_raw
            else day - dt.timedelta(days=35)
        )
        return cls(
            landing_dir=_path("RADAR_LANDING_DIR", REPO_ROOT / "warehouse" / "landing"),
            warehouse=_path("RADAR_WAREHOUSE", REPO_ROOT / "warehouse" / "radar.duckdb"),
            teams_file=_path("RADAR_TEAMS_FILE", SAMPLE_TEAMS_FILE),
            catalog_overrides=_path("RADAR_CATALOG_OVERRIDES", Path()) if overrides else None,
            as_of=day,
            publish_dir=_path("RADAR_PUBLISH_DIR", REPO_ROOT / "warehouse" / "published"),
            reports_dir=_path("RADAR_REPORTS_DIR", REPO_ROOT / "warehouse" / "reports"),
            sync_start=sync_start,
            duckdb_memory_limit=os.environ.get("RADAR_DUCKDB_MEMORY_LIMIT", "").strip()
            or "768MB",
            tolerance_share=_amount("RADAR_RECONCILIATION_TOLERANCE_SHARE",
                                    RECONCILIATION_TOLERANCE_SHARE, Decimal(1)),
            tolerance_usd=_amount("RADAR_RECONCILIATION_TOLERANCE_USD",
                                  RECONCILIATION_TOLERANCE_USD, Decimal("1e9")),
            unpriced_max_share=_amount("RADAR_UNPRICED_MAX_SHARE", UNPRICED_MAX_SHARE,
                                       Decimal(1)),
            lifecycle_overrides=(_path("RADAR_LIFECYCLE_OVERRIDES", Path())
                                 if lifecycle_overrides else None),
            request_ledger_days=_ledger_days("RADAR_REQUEST_LEDGER_DAYS"),
            catalog_max_age_days=_days("RADAR_CATALOG_MAX_AGE_DAYS", CATALOG_MAX_AGE_DAYS),
            sync_names=_flag("RADAR_SYNC_NAMES", True),
            publish_storage_version=_storage_version("RADAR_PUBLISH_STORAGE_VERSION",
                                                     PUBLISH_STORAGE_VERSION),
            billing_accounts=(_path("RADAR_BILLING_ACCOUNTS", Path())
                              if billing_accounts else None),
        )
