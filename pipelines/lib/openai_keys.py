"""Saved OpenAI project API key lists: the name each key goes by, and who owns it.

The Usage and Costs APIs name a key only by its id (``api_key_id``, ``key_...``). The Admin
API lists a project's keys, ``GET /organization/projects/{project_id}/api_keys`` (admin key;
``limit`` 1-100, ``after`` = the last id of the page before), and answers a list object::

    {"object": "list", "data": [<ProjectApiKey>, ...],
     "first_id": "key_...", "last_id": "key_...", "has_more": false}

A ProjectApiKey: ``object`` ``"organization.project.api_key"``, ``id`` (the Usage API's
``api_key_id``), ``name``, ``created_at`` and ``last_used_at`` (Unix seconds; the second may
be null), ``redacted_value`` (never kept here), ``owner`` {``type``: ``user`` or
``service_account``, ``user`` {``id``, ``name``, ``email``, ``role``, ...},
``service_account`` {``id``, ``name``, ``role``, ``created_at``}}. Source: the OpenAI API
reference, "List project API keys" (Administration > Projects > API keys), and the
``ProjectApiKey`` / ``ProjectApiKeyListResponse`` schemas of ``openai/openai-openapi``.

A file holds one such list, a JSON array of them, or JSON Lines with one per line (what the
sync writes and what ``curl`` saves). Each key is one row; a key that cannot be read is
rejected with its reason, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

KEY_TAG = "organization.project.api_key"

#: one parsed key; ``reason`` is NULL for a good row and says why for a rejected one
KEY_SCHEMA: dict[str, pl.DataType] = {
    "position": pl.Int64,
    "api_key_id": pl.String,
    "key_alias": pl.String,
    "key_owner": pl.String,
    "owner_type": pl.String,
    "created_at": pl.Datetime("us"),
    "last_used_at": pl.Datetime("us"),
    "reason": pl.String,
    "raw": pl.String,
}


@dataclass(frozen=True)
class ParsedKeys:
    keys: pl.DataFrame
    rows_read: int


def is_key_list(doc: object) -> bool:
    """A saved key list: a list object with at least one project API key in its data."""
    return (isinstance(doc, dict) and doc.get("object") == "list"
            and isinstance(doc.get("data"), list)
            and any(isinstance(k, dict) and k.get("object") == KEY_TAG for k in doc["data"]))


def parse_key_lists(docs: list[Any]) -> ParsedKeys:
    """The keys of the key-list documents of one file (see :func:`is_key_list`), one row each."""
    rows: list[tuple] = []
    for doc in docs:
        for item in doc["data"]:
            position = len(rows)
            try:
                rows.append((position, *_key(item), None, None))
            except ValueError as exc:
                rows.append((position, None, None, None, None, None, None, str(exc),
                             _raw(item)))
    if not rows:
        return ParsedKeys(pl.DataFrame(schema=KEY_SCHEMA), 0)
    return ParsedKeys(pl.DataFrame(rows, schema=KEY_SCHEMA, orient="row"), len(rows))


def _key(item: Any) -> tuple:
    if not isinstance(item, dict):
        raise ValueError("key is not an object")
    if item.get("object") != KEY_TAG:
        raise ValueError(f"not a project API key: object {item.get('object')!r}")
    key_id = item.get("id")
    if not isinstance(key_id, str) or not key_id.strip():
        raise ValueError(f"key id is not a string: {key_id!r}")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"key name is not a string: {name!r}")
    owner_type, owner = _owner(item.get("owner"))
    return (key_id.strip(), (name or "").strip() or None, owner, owner_type,
            _time(item.get("created_at"), "created_at"),
            _time(item.get("last_used_at"), "last_used_at"))


def _owner(owner: Any) -> tuple[str | None, str | None]:
    """(``user`` or ``service_account``, the owner's name: a user's name, else e-mail)."""
    if owner is None:
        return None, None
    if not isinstance(owner, dict):
        raise ValueError(f"owner is not an object: {owner!r}")
    kind = owner.get("type")
    if kind not in (None, "user", "service_account"):
        raise ValueError(f"owner type {kind!r} is neither user nor service_account")
    kind = kind or ("service_account" if owner.get("service_account") else
                    "user" if owner.get("user") else None)
    who = owner.get(kind) if kind else None
    if who is None:
        return kind, None
    if not isinstance(who, dict):
        raise ValueError(f"owner {kind} is not an object: {who!r}")
    names = (who.get("name"), who.get("email")) if kind == "user" else (who.get("name"),)
    for value in names:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"owner {kind} name is not a string: {value!r}")
    return kind, next((v.strip() for v in names if v and v.strip()), None)


def _time(value: Any, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is not Unix seconds: {value!r}")
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{name} implausibly large: {value!r}") from exc


def _raw(item: Any) -> str:
    """The rejected key as text, without its redacted value (part of a secret)."""
    if isinstance(item, dict):
        item = {k: v for k, v in item.items() if k != "redacted_value"}
    return json.dumps(item, sort_keys=True, default=str)[:4000]
