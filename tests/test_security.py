"""Nothing that looks like a secret reaches the warehouse, the BI copy or the run logs."""

from __future__ import annotations

import json
import re

import duckdb

from tests.conftest import run_cli_job
from tests.exports import RESULT_C, bucket, page

SECRET = re.compile(r"sk-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{6,}")


def _scan_duckdb(path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    hits = []
    try:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' OR data_type LIKE 'MAP%'").fetchall()
        for schema, table, column in columns:
            for (value,) in con.execute(
                    f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}"'
            ).fetchall():
                if value and SECRET.search(value):
                    hits.append(f"{schema}.{table}.{column}: {value[:80]}")
    finally:
        con.close()
    return hits


def test_no_secret_is_stored_or_logged(fixture_exports):
    landing = fixture_exports.landing
    # a credential pasted where an API key id belongs, in an otherwise good row
    leaked = dict(RESULT_C, api_key_id="sk-proj-AbCdEf0123456789", project_id="proj_leak")
    # a bad row whose user id carries a bearer token: quarantined, raw text kept for operators
    bad = dict(RESULT_C, user_id="Bearer eyJhbGciOiJIUzI1NiJ9.secret", num_model_requests=-1)
    (landing / "api" / "leaky.json").write_text(json.dumps(page([
        bucket("2026-11-19", [leaked, bad])])))
    # a file that is no export at all, full of a key
    (landing / "notes.json").write_text('{"OPENAI_ADMIN_KEY": "sk-admin-0123456789abcdef"')
    proc = run_cli_job(fixture_exports.env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    assert not SECRET.findall(log.replace("sk-***", "").replace("Bearer ***", ""))
    assert not _scan_duckdb(fixture_exports.warehouse)
    assert not _scan_duckdb(fixture_exports.publish / "radar.duckdb")
    # the leaked key still groups its usage, under a stable masked id
    masked = fixture_exports.query(
        "SELECT DISTINCT api_key_id FROM marts.usage_cost_daily WHERE project_id = 'proj_leak'")
    assert len(masked) == 1 and masked[0][0].startswith("masked-")
    # and the quarantined row is there, with its reason and masked raw text
    reasons = fixture_exports.query(
        "SELECT reason, raw FROM staging.rejected_rows WHERE source_file LIKE '%leaky.json'")
    assert len(reasons) == 1 and "negative" in reasons[0][0] and "Bearer ***" in reasons[0][1]


def test_masking_in_duckdb_agrees_with_python_and_spares_words_that_end_in_sk():
    """The warehouse's masks (RE2 in DuckDB) match what ``redact``'s key and bearer patterns
    mask in Python: a credential is masked wherever it stands, a name like
    "helpdesk-automation" is not (it was, in DuckDB, until 2026-12-04)."""
    from pipelines.lib.redact import redact, sql_mask, sql_redact

    texts = ["helpdesk-automation", "risk-assessment-v2", "frisk-12345678",
             "sk-proj-AbCdEf0123456789", "key=sk-admin-0123456789", "owner: sk-abcdef",
             "x_sk-abcdefgh", "Bearer eyJhbGciOiJIUzI1NiJ9.x", "forbearer abcdefghij",
             "token bearer abcdefghij"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INT, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    redacted = [r for (r,) in con.execute(f"SELECT {sql_redact('v')} FROM t ORDER BY i")
                .fetchall()]
    assert redacted == [redact(t) for t in texts]
    masked = dict(con.execute(f"SELECT v, {sql_mask('v')} FROM t").fetchall())
    assert [t for t in texts if masked[t] == t] == [
        "helpdesk-automation", "risk-assessment-v2", "frisk-12345678", "x_sk-abcdefgh",
        "forbearer abcdefghij"]
