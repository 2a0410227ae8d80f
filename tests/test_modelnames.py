import pytest

from pipelines.lib.modelnames import (
    named_models,
    parse_replacement,
    resolve_name,
    same_provider,
    snapshot_base,
)

CATALOG = {"gpt-4o", "gpt-4o-mini", "gpt-4o-2024-05-13", "gpt-4", "o1",
           "claude-sonnet-4-5-20250929", "anthropic.claude-3-haiku-20240307-v1:0",
           "gemini-2.5-flash", "gemini/gemini-2.5-flash", "azure/gpt-4o", "babbage-002"}
#: each entry's provider, as LiteLLM names it (the shipped catalog's `provider` column)
PROVIDERS = {"gpt-4o": "openai", "gpt-4o-mini": "openai", "gpt-4o-2024-05-13": "openai",
             "gpt-4": "openai", "o1": "openai", "claude-sonnet-4-5-20250929": "anthropic",
             "anthropic.claude-3-haiku-20240307-v1:0": "bedrock_converse",
             "gemini-2.5-flash": "vertex_ai-language-models",
             "gemini/gemini-2.5-flash": "gemini", "azure/gpt-4o": "azure",
             "babbage-002": "text-completion-openai"}


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-4o", "gpt-4o"),                          # exact
    ("gpt-4o-2024-08-06", "gpt-4o"),               # dated snapshot of an undated entry
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),    # a snapshot with its own entry keeps it
    ("gpt-4o-mini", "gpt-4o-mini"),                # not gpt-4o
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),     # snapshot base of the mini, not gpt-4o
    ("gpt-4-0613", "gpt-4"),                       # old -MMDD snapshot naming
    ("o1-2024-12-17", "o1"),
    ("gpt-4o-audio-preview", None),                # never a loose prefix
    ("gpt-4o-realtime", None),
])
def test_resolution_is_exact_then_snapshot_base(model, expected):
    assert resolve_name(model, CATALOG) == expected


@pytest.mark.parametrize(("model", "expected"), [
    # LiteLLM logs a deployment's model with its provider prefix; the catalog keys these bare
    ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ("bedrock/anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
    ("vertex_ai/gemini-2.5-flash", "gemini-2.5-flash"),     # Vertex AI's entry
    ("gemini/gemini-2.5-flash", "gemini/gemini-2.5-flash"),  # the Gemini API's own, exact
    ("openai/babbage-002", "babbage-002"),
    # the rest of the name is another provider's model: its dates are not Azure's or Google's
    ("azure/gpt-4o-mini", None),
    ("azure/gpt-4o", "azure/gpt-4o"),
    ("gemini/claude-sonnet-4-5-20250929", None),
    ("anthropic/gemini-2.5-flash", None),
    ("anthropic/claude-unknown-1", None),
])
def test_a_provider_prefix_comes_off_only_for_that_providers_entry(model, expected):
    assert resolve_name(model, CATALOG, PROVIDERS) == expected


@pytest.mark.parametrize(("provider", "prefix", "same"), [
    ("anthropic", "anthropic", True), ("bedrock_converse", "bedrock", True),
    ("vertex_ai-anthropic_models", "vertex_ai", True), ("text-completion-openai", "openai", True),
    ("openai", "azure", False), ("vertex_ai-language-models", "gemini", False),
    ("bedrock", "bed", False), (None, "anthropic", False), ("anthropic", "", False),
])
def test_same_provider(provider, prefix, same):
    assert same_provider(provider, prefix) is same


def test_snapshot_base():
    assert snapshot_base("gpt-5-mini-2025-08-07") == "gpt-5-mini"
    assert snapshot_base("text-embedding-3-small") is None


@pytest.mark.parametrize(("text", "model", "note"), [
    ("gpt-5.1-chat-latest", "gpt-5.1-chat-latest", None),
    ("gpt-5 or gpt-4.1", "gpt-5", "gpt-5 or gpt-4.1"),
    ("gpt-image-2, gpt-image-1, or gpt-image-1-mini", "gpt-image-2",
     "gpt-image-2, gpt-image-1, or gpt-image-1-mini"),
    ("gpt-5.6-sol (reasoning.mode: pro)", "gpt-5.6-sol", "gpt-5.6-sol (reasoning.mode: pro)"),
    ("most capable cyber model available to the account", None,
     "most capable cyber model available to the account"),
    ("", None, None),
])
def test_ambiguous_replacements_keep_first_and_note(text, model, note):
    assert parse_replacement(text) == (model, note)
    # every model the text names, the first being the replacement (the report names the
    # others beside it)
    named = named_models(text)
    assert named[:1] == ([model] if model else [])


def test_the_models_a_replacement_text_names():
    assert named_models("gpt-live-transcribe or gpt-transcribe") == [
        "gpt-live-transcribe", "gpt-transcribe"]
    assert named_models("gpt-image-2, gpt-image-1, or gpt-image-1-mini") == [
        "gpt-image-2", "gpt-image-1", "gpt-image-1-mini"]
    assert named_models("gpt-5.6-sol (reasoning.mode: pro)") == ["gpt-5.6-sol"]
    assert named_models("gpt-5 or gpt-5") == ["gpt-5"]
    assert named_models("most capable cyber model available to the account") == []
    assert named_models(None) == []


NAMES = ["gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-2024-05-13", "gpt-4o-mini",
         "gpt-4o-mini-2024-07-18", "gpt-4-0613", "o1-2024-12-17", "gpt-4o-audio-preview",
         "gpt-4o-realtime", "openai/gpt-4o-2024-08-06", "openai/gpt-4o-mini", "azure/gpt-4o",
         "openai/glm-5.2", "openai/openai/gpt-4o", "OpenAI/gpt-4o", "gpt-4o-2024-08-06-2024",
         "anthropic/claude-sonnet-4-5-20250929", "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
         "vertex_ai/gemini-2.5-flash", "gemini/gemini-2.5-flash", "openai/babbage-002",
         "azure/gpt-4o-mini", "azure/gpt-4o-2024-08-06", "gemini/claude-sonnet-4-5-20250929",
         "anthropic/claude-unknown-1", "vertex_ai/anthropic/claude-sonnet-4-5-20250929"]


def test_the_sql_model_resolves_as_the_python_rule():
    """sql/intermediate/int_model_resolution.sql and resolve_name agree, name by name (the
    SQL also has the fine-tuned rule, which resolve_name leaves out)."""
    import duckdb

    from pipelines.lib.duck import sql_text

    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA catalog")
    con.execute("CREATE TABLE staging.gateway_model_keys (model VARCHAR, model_map_key "
                "VARCHAR, last_seen DATE, file_id BIGINT)")
    con.execute("CREATE TABLE staging.usage AS SELECT unnest($n) AS model", {"n": NAMES})
    con.execute("CREATE TABLE catalog.model_prices AS SELECT unnest($c) AS model, "
                "unnest($p) AS provider",
                {"c": sorted(CATALOG), "p": [PROVIDERS[m] for m in sorted(CATALOG)]})
    con.execute("CREATE TABLE catalog.model_lifecycle AS SELECT unnest($c) AS model, "
                "NULL::VARCHAR AS replacement_model", {"c": sorted(CATALOG)})
    con.execute("CREATE TABLE catalog.model_replacement_options (replacement_model VARCHAR)")
    # no model priced by the second or the character among these names
    con.execute("CREATE TABLE catalog.model_unit_prices (model VARCHAR)")
    got = dict(con.execute("SELECT model, price_model FROM ("
                           + sql_text("intermediate/int_model_resolution") + ")").fetchall())
    lifecycle = dict(con.execute("SELECT model, lifecycle_model FROM ("
                                 + sql_text("intermediate/int_model_resolution")
                                 + ")").fetchall())
    expected = {name: resolve_name(name, CATALOG, PROVIDERS) for name in NAMES}
    assert got == expected
    assert lifecycle == expected
    assert expected["openai/gpt-4o-2024-08-06"] == "gpt-4o"  # the list tries the prefix
    assert expected["anthropic/claude-sonnet-4-5-20250929"] == "claude-sonnet-4-5-20250929"
    assert expected["azure/gpt-4o-2024-08-06"] == "azure/gpt-4o"  # Azure's own, by its base
