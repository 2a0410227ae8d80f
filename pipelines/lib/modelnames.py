"""Model-name rules shared by the catalog build and the pricing SQL.

Resolution is exact name first, then the dated snapshot's base name; never a loose prefix.
A dated snapshot ends in ``-YYYY-MM-DD`` (``gpt-4o-2024-08-06``) or, for the older naming,
``-MMDD`` (``gpt-4-0613``). ``gpt-4o-mini`` is not a snapshot of ``gpt-4o``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Same pattern as ``sql/intermediate/int_model_resolution.sql`` uses (kept in sync by
#: ``tests/test_modelnames.py::test_the_sql_model_resolves_as_the_python_rule``).
SNAPSHOT_SUFFIX = r"-(\d{4}-\d{2}-\d{2}|\d{4})$"
_SNAPSHOT_RE = re.compile(SNAPSHOT_SUFFIX)
_MODEL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def snapshot_base(model: str) -> str | None:
    """The base name of a dated snapshot, or None when the name is not a dated snapshot."""
    if not _SNAPSHOT_RE.search(model):
        return None
    base = _SNAPSHOT_RE.sub("", model)
    return base or None


#: A gateway deployment configured as ``openai/<model>`` may log the model with this prefix
#: (BerriAI/litellm#35472): it names the provider, not another model. Other providers'
#: prefixes are taken off only where the catalog's entry for the rest of the name is that
#: provider's (``resolve_name``): ``azure/gpt-4o`` retires on Azure's dates, never OpenAI's.
OPENAI_PREFIX = "openai/"


def catalog_name(model: str) -> str:
    """The name the catalog knows ``model`` by: without a leading ``openai/``."""
    return model[len(OPENAI_PREFIX):] if model.startswith(OPENAI_PREFIX) else model


def same_provider(provider: str | None, prefix: str) -> bool:
    """Whether a catalog entry served by ``provider`` (LiteLLM's ``litellm_provider``) is what
    a gateway deployment named ``<prefix>/<model>`` calls: that provider or one of its
    variants (``bedrock_converse`` for ``bedrock``, ``vertex_ai-language-models`` for
    ``vertex_ai``, ``text-completion-openai`` for ``openai``). Kept in step with
    ``sql/intermediate/int_model_resolution.sql``."""
    if not provider or not prefix:
        return False
    return (provider == prefix or provider.startswith((f"{prefix}_", f"{prefix}-"))
            or provider.endswith(f"-{prefix}"))


def resolve_name(model: str, known: set[str] | frozenset[str],
                 providers: Mapping[str, str | None] | None = None) -> str | None:
    """Catalog entry for ``model``: the exact name; else, for a name with a provider prefix
    (``anthropic/claude-sonnet-4-5-20250929``: LiteLLM's spend log writes the deployment's
    model as configured, ``reconstruct_model_name`` in litellm_core_utils/core_helpers.py), the
    name after the prefix when ``providers`` (catalog name -> provider) says that entry is
    the prefix's provider's; else its snapshot base; else None (``model`` taken without a
    leading ``openai/``)."""
    model = catalog_name(model)
    if model in known:
        return model
    prefix, slash, rest = model.partition("/")
    if slash and rest in known and same_provider((providers or {}).get(rest), prefix):
        return rest
    base = snapshot_base(model)
    if base is not None and base in known:
        return base
    return None


def named_models(text: str | None) -> list[str]:
    """The model ids a replacement text names, in its order: ``"gpt-image-2, gpt-image-1, or
    gpt-image-1-mini"`` -> all three; a parameter in parentheses is dropped
    (``"gpt-5.6-sol (reasoning.mode: pro)"`` -> ``["gpt-5.6-sol"]``), prose is no model id."""
    if not text:
        return []
    names = (re.sub(r"\s*\(.*?\)\s*$", "", part).strip()
             for part in re.split(r",|\bor\b", text))
    return [n for n in dict.fromkeys(names) if n and _MODEL_ID_RE.match(n)]


def parse_replacement(text: str | None) -> tuple[str | None, str | None]:
    """Split the deprecations page's replacement text into (model id, note).

    ``"gpt-5 or gpt-4.1"`` -> ``("gpt-5", "gpt-5 or gpt-4.1")``: the first alternative is the
    replacement, the full text is kept as a note. A parameter in parentheses is dropped from
    the id and kept in the note; prose that is no model id gives no replacement, only a note.
    """
    if text is None or not text.strip():
        return None, None
    raw = text.strip()
    first = re.split(r",|\bor\b", raw, maxsplit=1)[0].strip()
    first = re.sub(r"\s*\(.*?\)\s*$", "", first).strip()
    note = None if first == raw else raw
    if not _MODEL_ID_RE.match(first):
        return None, raw
    return first, note
