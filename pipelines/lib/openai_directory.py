"""Saved OpenAI Admin API directory lists: the names projects, keys and users go by, and who
owns a key.

The Usage and Costs APIs name a project, a key and a user only by their ids (``proj_...``,
``key_...``, ``user_...``). Three Admin API lists (admin key) give their names; each answers
a list object::

    {"object": "list", "data": [...], "first_id": "...", "last_id": "...", "has_more": false}

with ``limit`` 1-100 and the next page ``after`` the last id:

* ``GET /organization/projects`` (``include_archived=true`` for archived ones too): Project
  objects, ``object`` ``"organization.project"``, ``id``, ``name``, ``created_at``,
  ``archived_at`` (Unix seconds or null), ``status`` (``active`` or ``archived``);
* ``GET /organization/projects/{project_id}/api_keys``: ProjectApiKey objects, ``object``
  ``"organization.project.api_key"``, ``id`` (the Usage API's ``api_key_id``), ``name``,
  ``created_at``, ``last_used_at`` (null if never), ``redacted_value`` (never kept here),
  ``owner`` {``type``: ``user`` or ``service_account``, ``user`` {``id``, ``name``,
  ``email``, ``role``, ...}, ``service_account`` {``id``, ``name``, ``role``,
  ``created_at``}};
* ``GET /organization/users``: OrganizationUser objects, ``object`` ``"organization.user"``,
  ``id`` (the Usage API's ``user_id``), ``name``, ``email``, ``role``, ``added_at``, ...

Source: the OpenAI API reference, Administration > Projects ("List projects"), > API keys
("List project API keys") and > Users ("List users"), and the ``Project``,
``ProjectApiKey`` and ``OrganizationUser`` schemas of ``openai/openai-openapi`` (with their
list responses).

A file holds lists of one kind: one list, a JSON array of them, or JSON Lines with one per
line (what the sync writes and what ``curl`` saves). Each item is one row; an item that
cannot be read is rejected with its reason, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import polars as pl

from pipelines.lib.schema import ColumnType

KEY_TAG = "organization.project.api_key"
PROJECT_TAG = "organization.project"
USER_TAG = "organization.user"

#: one parsed key; ``reason`` is NULL for a good row and says why for a rejected one
KEY_SCHEMA: dict[str, ColumnType] = {
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
#: one parsed project
PROJECT_SCHEMA: dict[str, ColumnType] = {
    "position": pl.Int64,
    "project_id": pl.String,
    "project_name": pl.String,
    "status": pl.String,
    "archived_at": pl.Datetime("us"),
    "reason": pl.String,
    "raw": pl.String,
}
#: one parsed user
USER_SCHEMA: dict[str, ColumnType] = {
    "position": pl.Int64,
    "user_id": pl.String,
    "user_name": pl.String,
    "reason": pl.String,
    "raw": pl.String,
}


def list_kind(doc: object) -> str | None:
    """``KEY_TAG``, ``PROJECT_TAG`` or ``USER_TAG`` for a saved list of keys, projects or
    users (a list object with at least one item of that type in its data), else None."""
    if not (isinstance(doc, dict) and doc.get("object") == "list"
            and isinstance(doc.get("data"), list)):
        return None
    tags = {item.get("object") for item in doc["data"] if isinstance(item, dict)}
    return next((tag for tag in _PARSERS if tag in tags), None)


def parse_lists(docs: list[Any], tag: str) -> pl.DataFrame:
    """The items of the ``tag`` lists of one file (see :func:`list_kind`), one row each."""
    parse, schema = _PARSERS[tag]
    rows: list[tuple] = []
    for doc in docs:
        for item in doc["data"]:
            position = len(rows)
            try:
                if not isinstance(item, dict):
                    raise ValueError(f"{NOUNS[tag]} is not an object")
                if item.get("object") != tag:
                    raise ValueError(f"not a {NOUNS[tag]}: object {item.get('object')!r}")
                rows.append((position, *parse(item), None, None))
            except ValueError as exc:
                rows.append((position, *[None] * (len(schema) - 3), str(exc), _raw(item)))
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


def _key(item: dict) -> tuple:
    name = _text(item.get("name"), "key name")
    owner_type, owner = _owner(item.get("owner"))
    return (_id(item.get("id"), "key id"), name, owner, owner_type,
            _time(item.get("created_at"), "created_at"),
            _time(item.get("last_used_at"), "last_used_at"))


def _project(item: dict) -> tuple:
    status = item.get("status")
    if status not in (None, "active", "archived"):
        raise ValueError(f"project status {status!r} is neither active nor archived")
    return (_id(item.get("id"), "project id"), _text(item.get("name"), "project name"), status,
            _time(item.get("archived_at"), "archived_at"))


def _user(item: dict) -> tuple:
    """A user by name, else e-mail."""
    names = (_text(item.get("name"), "user name"), _text(item.get("email"), "user email"))
    return (_id(item.get("id"), "user id"), next((n for n in names if n), None))


_PARSERS: dict[str, tuple[Callable[[dict], tuple], dict[str, ColumnType]]] = {
    KEY_TAG: (_key, KEY_SCHEMA), PROJECT_TAG: (_project, PROJECT_SCHEMA),
    USER_TAG: (_user, USER_SCHEMA)}
NOUNS = {KEY_TAG: "project API key", PROJECT_TAG: "project", USER_TAG: "user"}


def _id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is not a string: {value!r}")
    return value.strip()


def _text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} is not a string: {value!r}")
    return (value or "").strip() or None


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
    return kind, next((n for n in (_text(v, f"owner {kind} name") for v in names) if n), None)


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
    """The rejected item as text, without a key's redacted value (part of a secret)."""
    if isinstance(item, dict):
        item = {k: v for k, v in item.items() if k != "redacted_value"}
    return json.dumps(item, sort_keys=True, default=str)[:4000]
