"""Bulk import and CSV export on the real servers: the import worker, the projector, the API."""

import asyncio
import csv
import io
import json
import sys

import pytest

from application.bulk.import_jobs import ROWS_PER_CHUNK, ImportStatus
from infrastructure.import_worker import import_runner, run_imports
from infrastructure.runtime import run_outbox_relay, run_projectors
from tests.conftest import settings_environment
from tests.tokens import bearer

pytestmark = pytest.mark.integration
BASE = "/api/v1/businesses/biz_1"
CUSTOMERS = f"{BASE}/customers"
IMPORTS = f"{CUSTOMERS}/imports"
EXPORT = f"{CUSTOMERS}/export.csv"
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def manager(settings, **claims):
    return bearer(settings, roles=("manager",), **claims)


@pytest.fixture
async def import_worker(container):
    stop = asyncio.Event()
    task = asyncio.create_task(run_imports(container, stop))
    yield task
    stop.set()
    await asyncio.wait_for(task, timeout=20)


async def submit(api, settings, body: str, headers=CSV, **params) -> dict:
    response = await api.post(IMPORTS, content=body.encode(), params=params, headers={**headers, **manager(settings)})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["id"].startswith("imp_") and accepted["status"] in ("queued", "running", "done")
    assert response.headers["location"] == f"{IMPORTS}/{accepted['id']}"
    return accepted


async def finished(api, settings, import_id: str, seconds: float = 60.0) -> dict:
    body: dict = {}
    for _ in range(int(seconds / 0.1)):
        response = await api.get(f"{IMPORTS}/{import_id}", headers=manager(settings))
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the import did not finish: {body}")


async def exported(api, settings, expected_rows: int, seconds: float = 20.0, **params) -> list[dict]:
    """The export's rows, once the read model holds `expected_rows` of them (it follows the projector)."""
    rows: list[dict] = []
    for _ in range(int(seconds / 0.1)):
        response = await api.get(EXPORT, params=params, headers=manager(settings))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(response.text)))
        if len(rows) == expected_rows:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"the export has {len(rows)} rows, expected {expected_rows}")


def counts(body: dict) -> tuple[int, ...]:
    return tuple(body[key] for key in ("total", "processed", "created", "updated", "skipped", "failed"))


async def test_an_import_creates_customers_reports_bad_rows_and_the_export_lists_them(
    api, settings, container, workers, import_worker
):
    body = (
        "first_name,last_name,email,phone,tags,segment\n"
        "Ana,Silva,ana@example.com,912 345 678,vip;lisbon,vip\n"
        "Rui,Costa,,,,\n"
        "Bad,Email,not-an-email,,,\n"
        "Too,Many,cells,here,x,y,z\n"
        'Zoe,"Lima, Jr.",zoe@example.com,,,\n'
    )
    accepted = await submit(api, settings, body)
    report = await finished(api, settings, accepted["id"])
    assert report["status"] == "done" and report["dry_run"] is False
    assert counts(report) == (5, 5, 3, 0, 0, 2)
    assert [(error["row"], error["field"]) for error in report["errors"]] == [(3, "email"), (4, "body")]

    rows = await exported(api, settings, 3, sort="last_name")
    assert list(rows[0]) == [
        "id", "first_name", "last_name", "email", "phone", "type", "segment", "status", "tags",
        "total_purchases", "created_at",
    ]  # fmt: skip
    assert [(row["first_name"], row["last_name"]) for row in rows] == [
        ("Rui", "Costa"),
        ("Zoe", "Lima, Jr."),
        ("Ana", "Silva"),
    ]
    ana = rows[2]
    assert (ana["email"], ana["phone"], ana["tags"], ana["segment"], ana["type"]) == (
        "ana@example.com", "+351912345678", "vip;lisbon", "vip", "new",
    )  # fmt: skip
    # Every list filter applies to the export.
    only_vip = await exported(api, settings, 1, tag="vip")
    assert only_vip[0]["id"] == ana["id"]
    # A segment's customers, AND the other filters.
    defined = await api.post(
        f"{BASE}/segments", json={"name": "VIPs", "filter": {"tag": "vip"}}, headers=manager(settings)
    )
    assert defined.status_code == 201, defined.text
    segment_id = defined.json()["id"]
    assert [row["id"] for row in await exported(api, settings, 1, segment_id=segment_id, segment="vip")] == [ana["id"]]
    assert await exported(api, settings, 0, segment_id=segment_id, segment="regular") == []

    # Each export is one entry in the access log.
    once = await api.get(EXPORT, headers=bearer(settings, roles=("manager",), subject="auditor"))
    assert once.status_code == 200 and len(list(csv.DictReader(io.StringIO(once.text)))) == 3
    assert await exports_logged(container.database()["access_log"], actor="auditor") == 1
    entry = await container.database()["access_log"].find_one({"action": "export_csv", "actor": "auditor"})
    assert sorted(entry["customer_ids"]) == sorted(row["id"] for row in rows) and entry["customer_count"] == 3
    # So the customers' own access log (GDPR export) shows it.
    about_ana = await container.access_log().about("biz_1", ana["id"], 50)
    assert any(record.action == "export_csv" and record.actor == "auditor" for record in about_ana)


async def exports_logged(entries, actor: str) -> int:
    """The actor's exports in the access log, once there is one (the API ships its spool a few times a second)."""
    for _ in range(100):
        count = await entries.count_documents({"business_id": "biz_1", "action": "export_csv", "actor": actor})
        if count:
            return count
        await asyncio.sleep(0.1)
    raise AssertionError("the export is not in the access log")


async def test_the_same_file_twice_creates_nobody_twice(api, settings, workers, import_worker):
    body = "\n".join(json.dumps(row) for row in [
        {"first_name": "Ana", "email": "ana@example.com"},
        {"first_name": "Walk-in", "last_name": "Without Contact"},
        {"first_name": "Rui", "phone": "+351 912 000 111", "tags": ["a"]},
    ])  # fmt: skip
    first = await finished(api, settings, (await submit(api, settings, body, headers=NDJSON))["id"])
    assert counts(first) == (3, 3, 3, 0, 0, 0)
    dry = await finished(api, settings, (await submit(api, settings, body, headers=NDJSON, dry_run="true"))["id"])
    assert counts(dry) == (3, 3, 0, 0, 3, 0)
    second = await finished(api, settings, (await submit(api, settings, body, headers=NDJSON))["id"])
    assert counts(second) == (3, 3, 0, 0, 3, 0)
    # Only three customers, even after both imports are projected.
    await exported(api, settings, 3)


async def test_on_match_update_changes_the_matched_customer_and_a_dry_run_changes_nothing(
    api, settings, workers, import_worker
):
    registered = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "Ana@Example.com"}, headers=bearer(settings)
    )
    assert registered.status_code == 201
    ana = registered.json()
    body = "email,last_name,phone\nana@example.com,Silva,\nnew@example.com,Novo,\nnew@example.com,Again,\n"

    dry = await finished(api, settings, (await submit(api, settings, body, dry_run="true", on_match="update"))["id"])
    assert dry["dry_run"] is True
    # The third row would match the customer the second one creates.
    assert counts(dry) == (3, 3, 1, 2, 0, 0)
    unchanged = await api.get(f"{CUSTOMERS}/{ana['id']}", headers=bearer(settings))
    assert unchanged.json()["last_name"] is None and unchanged.json()["version"] == 1

    skipped = await finished(api, settings, (await submit(api, settings, body))["id"])
    assert counts(skipped) == (3, 3, 1, 0, 2, 0)

    updated = await finished(api, settings, (await submit(api, settings, body, on_match="update"))["id"])
    # Rows about one person go in file order: "Novo" is no change, "Again" then changes it.
    assert counts(updated) == (3, 3, 0, 2, 1, 0)
    changed = await api.get(f"{CUSTOMERS}/{ana['id']}?min_version=2", headers=bearer(settings))
    assert changed.status_code == 200
    # Matched case-insensitively; the row's spelling of the email is what it gives.
    assert (changed.json()["last_name"], changed.json()["email"]) == ("Silva", "ana@example.com")


async def test_hostile_ndjson_rows_fail_alone_and_the_others_are_imported(api, settings, import_worker):
    lines = [
        '{"first_name": "Ana", "attributes": {"a.b": 1, "$set": 2}}',
        '{"first_name": 5}',
        '{"$where": "sleep(1000)"}',
        '{"first_name": "Tags", "tags": "not-a-list"}',
        '{"first_name": "' + "x" * 300 + '"}',
        '{"first_name": "Ok", "address": {"city": "Lisboa"}, "attributes": {"card": "gold"}}',
        "[" * 5000,
    ]
    report = await finished(api, settings, (await submit(api, settings, "\n".join(lines), headers=NDJSON))["id"])
    assert counts(report) == (7, 7, 1, 0, 0, 6)
    assert {error["row"] for error in report["errors"]} == {1, 2, 3, 4, 5, 7}
    assert next(error for error in report["errors"] if error["row"] == 3)["field"] == "$where"


async def test_an_idempotency_key_answers_the_same_import_and_refuses_another_body(api, settings):
    key = {"Idempotency-Key": "import-1"}
    first = await api.post(IMPORTS, content=b"first_name\nAna\n", headers={**CSV, **key, **manager(settings)})
    again = await api.post(IMPORTS, content=b"first_name\nAna\n", headers={**CSV, **key, **manager(settings)})
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    other = await api.post(IMPORTS, content=b"first_name\nRui\n", headers={**CSV, **key, **manager(settings)})
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    other_options = await api.post(
        IMPORTS, content=b"first_name\nAna\n", params={"dry_run": "true"}, headers={**CSV, **key, **manager(settings)}
    )
    assert other_options.status_code == 422


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b'{"first_name": "Ana"}', {"Content-Type": "application/json"}, 415, None),
        (b"first_name,nickname\nAna,A\n", CSV, 422, "body"),
        (b"", CSV, 422, "body"),
        (b"first_name\n\xff\xfe\n", CSV, 422, "body"),
        (b"first_name\n" + b"A\n" * 100_001, CSV, 422, "body"),
    ],
    ids=["json", "unknown-column", "empty", "not-utf8", "too-many-rows"],
)
async def test_a_file_that_cannot_be_imported_is_a_clear_4xx(api, settings, content, headers, status, field):
    response = await api.post(IMPORTS, content=content, headers={**headers, **manager(settings)})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field:
        assert response.json()["errors"][0]["field"] == field


async def test_a_file_of_no_customers_is_done_at_once(api, settings):
    accepted = await submit(api, settings, "id,first_name,email\r\n")
    report = (await api.get(f"{IMPORTS}/{accepted['id']}", headers=manager(settings))).json()
    assert report["status"] == "done" and counts(report) == (0, 0, 0, 0, 0, 0)


async def test_bad_parameters_and_unknown_imports_are_clear_4xx(api, settings):
    bad_option = await api.post(
        IMPORTS, content=b"first_name\nAna\n", params={"on_match": "merge"}, headers={**CSV, **manager(settings)}
    )
    assert bad_option.status_code == 400 or bad_option.status_code == 422
    unknown = await api.get(f"{IMPORTS}/imp_nothing", headers=manager(settings))
    assert unknown.status_code == 404
    bad_sort = await api.get(EXPORT, params={"sort": "email"}, headers=manager(settings))
    assert bad_sort.status_code in (400, 422)
    unknown_segment = await api.get(EXPORT, params={"segment_id": "seg_nothing"}, headers=manager(settings))
    assert unknown_segment.status_code == 404
    for response in (bad_option, unknown, bad_sort, unknown_segment):
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_only_managers_of_the_business_export_and_import(api, settings):
    accepted = await submit(api, settings, "first_name\nAna\n")
    routes = [
        ("GET", EXPORT, {}),
        ("POST", IMPORTS, {"content": b"first_name\nAna\n", "headers": CSV}),
        ("GET", f"{IMPORTS}/{accepted['id']}", {}),
    ]
    for method, path, options in routes:
        for role in ("viewer", "staff"):
            headers = {**options.get("headers", {}), **bearer(settings, roles=(role,))}
            response = await api.request(method, path, content=options.get("content"), headers=headers)
            assert response.status_code == 403, (method, path, role)
        other = {**options.get("headers", {}), **manager(settings, business_ids=("biz_2",))}
        response = await api.request(method, path, content=options.get("content"), headers=other)
        assert response.status_code == 404, (method, path)
    # Another business's manager does not see this business's import, even on its own path.
    theirs = await api.get(
        f"/api/v1/businesses/biz_2/customers/imports/{accepted['id']}",
        headers=manager(settings, business_ids=("biz_2",)),
    )
    assert theirs.status_code == 404
    admin = await api.get(f"{IMPORTS}/{accepted['id']}", headers=bearer(settings, roles=("admin",)))
    assert admin.status_code == 200


async def test_an_import_resumes_after_a_worker_stops_with_exact_totals(api, settings, container, workers):
    rows = ROWS_PER_CHUNK * 2 + 200
    body = "first_name,email\n" + "".join(f"Person{n},person{n}@example.com\n" for n in range(rows))
    accepted = await submit(api, settings, body)

    # A first worker stops after one chunk.
    stop = asyncio.Event()

    def stop_after_first_chunk(job) -> None:
        if job.next_chunk >= 1:
            stop.set()

    await import_runner(container, "worker-a").run_one("biz_1", accepted["id"], stop, stop_after_first_chunk)
    halfway = (await api.get(f"{IMPORTS}/{accepted['id']}", headers=manager(settings))).json()
    assert halfway["status"] == "running" and halfway["processed"] == ROWS_PER_CHUNK

    # Another dies inside the next chunk: half its rows committed, its progress never recorded.
    job = await container.import_store().get("biz_1", accepted["id"])
    chunk = await container.import_store().chunk(job.upload_id, job.next_chunk)
    from application.bulk.import_rows import DryRunClaims

    await container.import_rows().execute(job, chunk[: len(chunk) // 2], DryRunClaims())
    still = (await api.get(f"{IMPORTS}/{accepted['id']}", headers=manager(settings))).json()
    assert still["processed"] == ROWS_PER_CHUNK

    # A new worker finishes it: every row counted once, every customer created once.
    await import_runner(container, "worker-b").run_one("biz_1", accepted["id"], asyncio.Event())
    done = (await api.get(f"{IMPORTS}/{accepted['id']}", headers=manager(settings))).json()
    assert done["status"] == ImportStatus.DONE.value
    assert counts(done) == (rows, rows, rows, 0, 0, 0)
    snapshots = container.database()["customer_snapshots"]
    assert await snapshots.count_documents({"business_id": "biz_1"}) == rows

    # The export pages through all of them: each once.
    listed = await exported(api, settings, rows, seconds=60, sort="last_name")
    assert len({row["id"] for row in listed}) == rows


async def test_the_cli_imports_a_file_and_exports_the_customers_as_csv(settings, container, tmp_path):
    file = tmp_path / "customers.csv"
    file.write_text("first_name,email,tags\nAna,ana@example.com,vip\nRui,rui@example.com,\nBad,nope,\n")
    environment = settings_environment(settings)

    async def crm(*arguments: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "interfaces.cli.main", *arguments,
            env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        return process.returncode, out.decode(), err.decode()

    code, out, err = await crm("customers", "import", str(file), "--business", "biz_1", "--dry-run")
    assert code == 0, err
    assert "2 created, 0 updated, 0 skipped, 1 failed" in out and "(dry run)" in out
    code, out, err = await crm("customers", "import", str(file), "--business", "biz_1")
    assert code == 0, err
    assert "2 created, 0 updated, 0 skipped, 1 failed" in out and "row 3: email" in out

    # The export reads the read model, which the projector fills from the events.
    stop = asyncio.Event()
    projector = asyncio.create_task(run_projectors(container, stop))
    relay = asyncio.create_task(run_outbox_relay(container, stop))
    try:
        rows: list[dict] = []
        for _ in range(100):
            code, out, err = await crm("customers", "export", "--business", "biz_1", "--tag", "vip")
            assert code == 0, err
            rows = list(csv.DictReader(io.StringIO(out)))
            if rows:
                break
            await asyncio.sleep(0.2)
        assert [(row["first_name"], row["email"]) for row in rows] == [("Ana", "ana@example.com")]
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(projector, relay, return_exceptions=True), timeout=20)

    code, _, err = await crm("customers", "import", str(tmp_path / "missing.csv"), "--business", "biz_1")
    assert code != 0 and "Traceback" not in err
