"""A gateway deployment configured as ``openai/<model>`` may log the model with that prefix.

LiteLLM routes a deployment whose ``litellm_params.model`` is ``openai/gpt-4o-2024-08-06`` to
the OpenAI API, and its spend log rows carry the model with or without the prefix (both occur
for one deployment: BerriAI/litellm#35472). The prefix names the provider, not another model:
the name after it resolves by the usual rules. Other providers' prefixes (``azure/``) do not:
their retirement dates are their own, and the catalog has such entries under the prefixed
name (LiteLLM's ``azure/gpt-4o-2024-08-06``, retiring on Azure's date).
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from pipelines.lib.modelnames import resolve_name
from tests.exports import LITELLM_HEADER, litellm_row

CATALOG = {"gpt-4o", "gpt-4o-mini"}


@pytest.mark.parametrize(("model", "expected"), [
    ("openai/gpt-4o-2024-08-06", "gpt-4o"),
    ("openai/gpt-4o-mini", "gpt-4o-mini"),
    ("azure/gpt-4o-2024-08-06", None),       # Azure retires on its own dates: not gpt-4o's
    ("openai/glm-5.2", None),                # an OpenAI-compatible server, not an OpenAI model
    ("openai/openai/gpt-4o", None),          # one prefix, not any number of them
])
def test_the_openai_prefix_names_the_provider(model, expected):
    assert resolve_name(model, CATALOG) == expected


def test_prefixed_gateway_traffic_on_a_deprecated_model_is_reported(radar, refresh):
    rows = [litellm_row("r1", "openai/gpt-4o-2024-08-06", 1000, 100, "team-x", "growth",
                        "success"),
            litellm_row("r2", "gpt-4o-2024-08-06", 1000, 100, "team-x", "growth", "success"),
            litellm_row("r3", "azure/gpt-4o-2024-08-06", 1000, 100, "team-x", "growth",
                        "success"),
            litellm_row("r4", "openai/glm-5.2", 1000, 100, "team-x", "growth", "success")]
    with (radar.landing / "spend.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LITELLM_HEADER)
        writer.writerows(rows)
    refresh()
    # the model stays as the gateway logged it; both OpenAI forms are the same deprecated
    # model, priced alike: (1,000 x 2.50 + 100 x 10) / 1e6 = 0.0035 USD each. Azure's entry
    # has the same price but its own shutdown date and replacement chain
    # (azure/gpt-5.1, itself deprecated, then azure/gpt-5.6)
    assert radar.query(
        "SELECT model, lifecycle_status, shutdown_date, replacement_model, "
        "requests_28d, CAST(cost_usd_28d AS VARCHAR) FROM marts.deprecated_model_usage "
        "ORDER BY model") == [
        ("azure/gpt-4o-2024-08-06", "deprecated", dt.date(2027, 4, 14), "azure/gpt-5.6", 1,
         "0.0035000000"),
        ("gpt-4o-2024-08-06", "deprecated", dt.date(2027, 1, 14), "gpt-6-luna", 1,
         "0.0035000000"),
        ("openai/gpt-4o-2024-08-06", "deprecated", dt.date(2027, 1, 14), "gpt-6-luna", 1,
         "0.0035000000")]
    assert radar.query("SELECT model, reason FROM marts.unpriced_usage ORDER BY model") == [
        ("openai/glm-5.2", "model not in catalog")]
    assert radar.query("SELECT DISTINCT price_model FROM marts.usage_cost_daily "
                       "WHERE model LIKE 'openai/gpt-4o%'") == [("gpt-4o-2024-08-06",)]
