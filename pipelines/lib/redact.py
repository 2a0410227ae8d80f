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
