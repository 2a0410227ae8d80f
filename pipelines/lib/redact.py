"""Keep secrets out of the warehouse and the logs.

Raw text of a rejected row is stored so an operator can see what was wrong; before it is
stored, anything that looks like a credential is masked. Gateway key *hashes* are not
secrets (LiteLLM stores only the hash) and stay as they are.
"""

from __future__ import annotations

import re

_PATTERNS = (
    # OpenAI-style keys: sk-..., sk-proj-..., sk-admin-...
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"), "sk-***"),
    # bearer tokens in headers or logs
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]{6,}"), "Bearer ***"),
    # "api_key": "..." / authorization: ... style pairs with a literal value
    (
        re.compile(r'(?i)("?(?:authorization|x-api-key|openai_api_key|admin_key)"?\s*[:=]\s*"?)'
                   r'[^",\s}]{6,}'),
        r"\1***",
    ),
)
MAX_RAW_CHARS = 2000


def redact(text: str | None, limit: int = MAX_RAW_CHARS) -> str | None:
    """Mask credentials in ``text`` and cut it to ``limit`` characters."""
    if text is None:
        return None
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= limit else text[:limit] + "…"


#: the same patterns for DuckDB (RE2 syntax), applied when rows are written to the warehouse;
#: the word boundary as in Python's, or "helpdesk-automation" would pass for a key
_SQL_KEY = r"\bsk-[A-Za-z0-9_\-]{6,}"
_SQL_BEARER = r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]{6,}"


def sql_redact(expr: str) -> str:
    """SQL that masks credentials inside the text ``expr`` (a column name of ours)."""
    return (f"regexp_replace(regexp_replace({expr}, '{_SQL_KEY}', 'sk-***', 'g'), "
            f"'{_SQL_BEARER}', 'Bearer ***', 'g')")


def sql_mask(expr: str) -> str:
    """SQL that replaces an identifier that *is* a credential by a stable digest of it, so a
    leaked key in an export still groups usage but is never stored."""
    return (f"CASE WHEN regexp_matches({expr}, '{_SQL_KEY}') OR regexp_matches({expr}, "
            f"'{_SQL_BEARER}') THEN 'masked-' || left(sha256({expr}), 16) ELSE {expr} END")
