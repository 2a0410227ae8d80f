"""A local stand-in for the OpenAI Admin API: spec-shaped pages served by pytest-httpserver.

Serves every usage endpoint and the Costs API with real pagination (``limit`` buckets per
page, ``next_page`` cursors), an empty day, a partial last bucket, and scripted failures
(one 429 with Retry-After, one 500) so the client's retries are exercised for real; and the
projects, the users and each project's API keys (``GET /organization/projects``,
``/organization/users`` and ``/organization/projects/{project_id}/api_keys``: list objects,
``first_id``/``last_id``/``has_more``, the next page ``after`` the last id).
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
        #: each project's keys, in the official ProjectApiKey shape
        self.keys: dict[str, list[dict]] = {
            "proj_a": [
                project_key("key_a", "checkout-prod", user={"name": "Ada Lovelace",
                                                            "email": "ada@example.com"}),
                project_key("key_a2", "notebook", user={"name": "", "email": "bo@example.com"}),
            ],
            "proj_b": [project_key("key_b", "nightly-batch",
                                   service_account={"name": "batch-runner"})],
        }
        self.projects = [
            {"object": "organization.project", "id": "proj_a", "name": "Checkout",
             "created_at": 1_711_471_533, "archived_at": None, "status": "active"},
            {"object": "organization.project", "id": "proj_b", "name": "Batch jobs",
             "created_at": 1_711_471_533, "archived_at": 1_760_000_000, "status": "archived"},
        ]
        # fewer than asked for, as a server may: two pages for proj_a's keys and the projects
        self.keys_page_size = 1
        self.key_requests: list[tuple[str, str | None, str | None]] = []
        self.project_requests: list[dict] = []
        self.users: list[dict] | None = [
            {"object": "organization.user", "id": "user_ada", "name": "Ada Lovelace",
             "email": "ada@example.com", "role": "owner", "added_at": 1_711_471_533},
            {"object": "organization.user", "id": "user_bo", "name": "",
             "email": "bo@example.com", "role": "reader", "added_at": 1_711_471_533},
        ]

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
                           user_id="user_ada", batch=False, service_tier="default"),
                completion(input_tokens=n * 5_000, output_tokens=n * 500, num_model_requests=n,
                           project_id="proj_b", api_key_id="key_b", model="gpt-5.6-sol",
                           batch=False, service_tier="default"),
            ]
        if kind == "usage/embeddings":
            return [{"object": "organization.usage.embeddings.result", "input_tokens": n * 900,
                     "num_model_requests": n, "project_id": "proj_a", "user_id": None,
                     "api_key_id": "key_a", "model": "text-embedding-3-small"}]
        if kind == "usage/audio_transcriptions":  # whisper-1, billed by the second
            return [{"object": "organization.usage.audio_transcriptions.result",
                     "seconds": n * 600, "num_model_requests": n, "project_id": "proj_a",
                     "user_id": "user_ada", "api_key_id": "key_a", "model": "whisper-1"}]
        if kind == "costs":
            return [{"object": "organization.costs.result",
                     "amount": {"value": round(n * 0.37, 6), "currency": "usd"},
                     "line_item": None, "project_id": "proj_a", "api_key_id": None,
                     "quantity": None, "quantity_unit": None}]
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

    def key_handler(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ADMIN_KEY}":
            return Response(json.dumps({"error": {"message": "invalid key"}}), 401)
        project = request.path.split("/")[-2]
        self.key_requests.append((project, request.args.get("limit"),
                                  request.args.get("after")))
        if project not in self.keys:
            return Response(json.dumps({"error": {"message": f"No such project: {project}"}}),
                            404, content_type="application/json")
        return self.list_page(self.keys[project], request)

    def project_handler(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ADMIN_KEY}":
            return Response(json.dumps({"error": {"message": "invalid key"}}), 401)
        self.project_requests.append(dict(request.args))
        archived = request.args.get("include_archived") == "true"
        return self.list_page([p for p in self.projects
                               if archived or p["status"] != "archived"], request)

    def user_handler(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ADMIN_KEY}":
            return Response(json.dumps({"error": {"message": "invalid key"}}), 401)
        if self.users is None:  # a broken answer: an object that is not a list
            return Response(json.dumps({"object": "page", "data": []}), 200,
                            content_type="application/json")
        return self.list_page(self.users, request)

    def list_page(self, items: list[dict], request: Request) -> Response:
        after, limit = request.args.get("after"), request.args.get("limit")
        start = next(i + 1 for i, k in enumerate(items) if k["id"] == after) if after else 0
        chunk = items[start:start + min(int(limit or 20), self.keys_page_size)]
        body = {"object": "list", "data": chunk,
                "first_id": chunk[0]["id"] if chunk else None,
                "last_id": chunk[-1]["id"] if chunk else None,
                "has_more": start + len(chunk) < len(items)}
        return Response(json.dumps(body), 200, content_type="application/json")

    def install(self, httpserver) -> None:
        kinds = ["usage/completions", "usage/embeddings", "usage/moderations", "usage/images",
                 "usage/audio_speeches", "usage/audio_transcriptions", "usage/vector_stores",
                 "usage/code_interpreter_sessions", "usage/file_search_calls",
                 "usage/web_search_calls", "costs"]
        for kind in kinds:
            httpserver.expect_request(f"/v1/organization/{kind}").respond_with_handler(
                self.handler(kind))
        httpserver.expect_request(
            re.compile(r"^/v1/organization/projects/[^/]+/api_keys$")
        ).respond_with_handler(self.key_handler)
        httpserver.expect_request("/v1/organization/projects").respond_with_handler(
            self.project_handler)
        httpserver.expect_request("/v1/organization/users").respond_with_handler(
            self.user_handler)

    def export_page(self) -> dict:
        """The same completions, embeddings, transcriptions and costs as one saved page file
        each."""
        return {kind: {"object": "page", "data": self.buckets(kind), "has_more": False,
                       "next_page": None}
                for kind in ("usage/completions", "usage/embeddings",
                             "usage/audio_transcriptions", "costs")}


def project_key(key_id: str, name: str, user: dict | None = None,
                service_account: dict | None = None, last_used: int = 1_764_000_000) -> dict:
    """A ProjectApiKey object as the Admin API answers it."""
    owner: dict = {"type": "user" if user else "service_account"}
    if user:
        owner["user"] = {"object": "organization.project.user", "id": f"user_{key_id}",
                         "role": "member", "added_at": 1_711_471_533, **user}
    else:
        owner["service_account"] = {"object": "organization.project.service_account",
                                    "id": f"svc_acct_{key_id}", "role": "member",
                                    "created_at": 1_711_471_533, **(service_account or {})}
    return {"object": "organization.project.api_key", "redacted_value": "sk-abc...def",
            "name": name, "created_at": 1_711_471_533, "last_used_at": last_used,
            "id": key_id, "owner": owner}
