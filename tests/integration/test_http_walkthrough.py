"""examples/crm.http, run as it is against the real API and workers: each request in turn,
its `{{...}}` references filled from earlier responses, its status the one it expects."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
WALKTHROUGH = Path(__file__).parents[2] / "examples" / "crm.http"


@dataclass
class Request:
    name: str | None
    expect: int
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def parse(text: str) -> tuple[dict[str, str], list[Request]]:
    blocks = re.split(r"^###.*$", text, flags=re.M)
    variables = dict(re.findall(r"^@(\w+)\s*=\s*(.*)$", blocks[0], re.M))
    requests = []
    for block in blocks[1:]:
        name = re.search(r"^# @name (\w+)$", block, re.M)
        expect = re.search(r"^# @expect (\d{3})$", block, re.M)
        assert expect, f"a request without # @expect:\n{block}"
        lines = [line for line in block.strip().splitlines() if not line.startswith("#")]
        method, target = lines[0].split(" ", 1)
        request = Request(name.group(1) if name else None, int(expect.group(1)), method, target.strip())
        rest = lines[1:]
        while rest and rest[0].strip():
            key, value = rest.pop(0).split(":", 1)
            request.headers[key.strip()] = value.strip()
        request.body = "\n".join(rest).strip()
        requests.append(request)
    return variables, requests


def filled(template: str, variables: dict[str, str], responses: dict[str, httpx.Response]) -> str:
    def value(match: re.Match[str]) -> str:
        reference = match.group(1)
        if reference in variables:
            return filled(variables[reference], variables, responses)
        name, _, part, *path = reference.split(".")
        response = responses[name]
        if part == "headers":
            return response.headers[path[0]]
        assert part == "body" and path[0] == "$", reference
        found = response.json()
        for key in path[1:]:
            found = found[key]
        return str(found)

    return re.sub(r"\{\{([\w.$-]+)\}\}", value, template)


async def test_the_walkthrough_runs_as_written(api, settings, workers):
    variables, requests = parse(WALKTHROUGH.read_text())
    assert [(r.method, r.target.split("?")[0].rsplit("/", 1)[-1]) for r in requests] == [
        ("POST", "customers"),
        ("GET", "{{ana.response.body.$.id}}"),
        ("POST", "customers"),
        ("GET", "search"),
        ("POST", "merge"),
        ("GET", "export"),
        ("POST", "erase"),
    ]
    base = httpx.URL(variables["base"])
    business = base.path.rstrip("/").rsplit("/", 1)[-1]
    variables["base"] = f"{api.base_url}{base.path}"
    variables["token"] = bearer(settings, business_ids=(business,), roles=("admin",))["Authorization"].split()[1]

    responses: dict[str, httpx.Response] = {}
    outcomes = []
    for request in requests:
        response = await api.request(
            request.method,
            filled(request.target, variables, responses),
            headers={key: filled(value, variables, responses) for key, value in request.headers.items()},
            content=filled(request.body, variables, responses).encode() or None,
        )
        assert response.status_code == request.expect, f"{request.method} {request.target}: {response.text}"
        outcomes.append(response)
        if request.name:
            responses[request.name] = response

    ana, duplicate = responses["ana"].json()["id"], responses["duplicate"].json()["id"]
    search, merged, export = outcomes[3].json(), outcomes[4].json(), outcomes[5].json()
    assert {ana, duplicate} <= {item["id"] for item in search["items"]}
    assert merged["id"] == ana
    assert json.dumps(export).count("ana.silva@example.com") >= 1
