"""A local stand-in for the OpenAI Admin API: spec-shaped pages served by pytest-httpserver.

Serves every usage endpoint and the Costs API with real pagination (``limit`` buckets per
page, ``next_page`` cursors), an empty day, a partial last bucket, and scripted failures
(one 429 with Retry-After, one 500) so the client's retries are exercised for real.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from werkzeug import Request, Response

from tests.exports import completion

ADMIN_KEY = "sk-admin-test-0123456789abcdef"


def day_epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


class FakeAdminApi:
    def __init__(self, first: dt.date, last: dt.date, empty_day: dt.date,
                 partial_last: bool = True) -> None:
        self.first, self.last, self.empty_day = first, last, empty_day
        self.partial_last = partial_last
        self.calls: Counter[str] = Counter()
        self.failures = {"usage/completions": [429], "costs": [500]}
        self.seen_params: list[dict] = []

    # the data: one bucket per day, oldest first
    def buckets(self, kind: str) -> list[dict]:
        out = []
        day = self.first
        while day <= self.last:
            start = day_epoch(day)
            end = start + (43_200 if self.partial_last and day == self.last else 86_400)
            out.append({"object": "bucket", "start_time": start, "end_time": end,
                        "results": [] if day == self.empty_day else self.results(kind, day)})
            day += dt.timedelta(days=1)
        return out

    def results(self, kind: str, day: dt.date) -> list[dict]:
        n = day.toordinal() % 7 + 3
        if day == self.last and self.partial_last:
            n = 1  # the day is not over: the partial bucket has less usage
        if kind == "usage/completions":
            return [
                completion(input_tokens=n * 10_000, input_cached_tokens=n * 1_000,
                           output_tokens=n * 2_000, num_model_requests=n * 10,
                           project_id="proj_a", api_key_id="key_a", model="gpt-4o-2024-08-06",
                           batch=False, service_tier="default"),
                completion(input_tokens=n * 5_000, output_tokens=n * 500, num_model_requests=n,
                           project_id="proj_b", api_key_id="key_b", model="gpt-5.6-sol",
                           batch=False, service_tier="default"),
            ]
        if kind == "usage/embeddings":
            return [{"object": "organization.usage.embeddings.result", "input_tokens": n * 900,
                     "num_model_requests": n, "project_id": "proj_a", "user_id": None,
                     "api_key_id": "key_a", "model": "text-embedding-3-small"}]
        if kind == "costs":
            return [{"object": "organization.costs.result",
                     "amount": {"value": round(n * 0.37, 6), "currency": "usd"},
                     "line_item": None, "project_id": "proj_a", "api_key_id": None}]
        return []

    def handler(self, kind: str):
        def handle(request: Request) -> Response:
            self.calls[kind] += 1
            if request.headers.get("Authorization") != f"Bearer {ADMIN_KEY}":
                return Response(json.dumps({"error": {"message": "invalid key"}}), 401)
            scripted = self.failures.get(kind)
            if scripted:
                status = scripted.pop(0)
                headers = {"Retry-After": "1"} if status == 429 else {}
                return Response(json.dumps({"error": {"message": "try later"}}), status,
                                headers=headers, content_type="application/json")
            args = request.args
            self.seen_params.append({"kind": kind, "limit": args.get("limit"),
                                     "group_by": args.getlist("group_by"),
                                     "bucket_width": args.get("bucket_width"),
                                     "start_time": int(args["start_time"]),
                                     "end_time": int(args["end_time"])})
            start, end = int(args["start_time"]), int(args["end_time"])
            limit = int(args.get("limit", 7))
            data = [b for b in self.buckets(kind) if start <= b["start_time"] < end]
            offset = int(args.get("page", "cursor_0").split("_")[1])
            chunk = data[offset:offset + limit]
            more = offset + limit < len(data)
            body = {"object": "page", "data": chunk, "has_more": more,
                    "next_page": f"cursor_{offset + limit}" if more else None}
            return Response(json.dumps(body), 200, content_type="application/json")
        return handle

    def install(self, httpserver) -> None:
        kinds = ["usage/completions", "usage/embeddings", "usage/moderations", "usage/images",
                 "usage/audio_speeches", "usage/audio_transcriptions", "usage/vector_stores",
                 "usage/code_interpreter_sessions", "usage/file_search_calls",
                 "usage/web_search_calls", "costs"]
        for kind in kinds:
            httpserver.expect_request(f"/v1/organization/{kind}").respond_with_handler(
                self.handler(kind))

    def export_page(self) -> dict:
        """The same completions, embeddings and costs as one saved page file each."""
        return {kind: {"object": "page", "data": self.buckets(kind), "has_more": False,
                       "next_page": None}
                for kind in ("usage/completions", "usage/embeddings", "costs")}
