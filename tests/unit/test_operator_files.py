"""The operators' files: Prometheus alert rules (checked and unit-tested by promtool), the
scrape configuration and the Grafana dashboard, on the metrics the service really has."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import infrastructure.observability.metrics  # noqa: F401  (registers every metric)

pytestmark = pytest.mark.unit
OPS = Path(__file__).parents[2] / "ops"
PROMETHEUS = OPS / "prometheus"
DASHBOARD = OPS / "grafana" / "dashboards" / "crm.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is missing (scripts/ensure-tools.sh installs Debian's prometheus)"
)


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def dashboard_expressions() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]


def alert_expressions() -> list[str]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


@needs_promtool
def test_the_alert_rules_and_the_scrape_configuration_are_valid(tmp_path):
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The API's metrics token is a compose secret mounted beside the configuration.
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS / name, tmp_path)
    (tmp_path / "metrics-token").write_text("a-token-of-the-deployment")
    config = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
def test_each_alert_fires_past_its_threshold_and_not_below():
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_the_rule_tests_catch_a_changed_threshold(tmp_path):
    rules = (PROMETHEUS / "alerts.yml").read_text()
    assert "max(crm_outbox_oldest_pending_age_seconds) > 60" in rules
    (tmp_path / "alerts.yml").write_text(rules.replace("pending_age_seconds) > 60", "pending_age_seconds) > 600"))
    shutil.copy(PROMETHEUS / "alerts.test.yml", tmp_path)
    tested = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "CrmOutboxStuck" in tested.stdout + tested.stderr


@needs_promtool
def test_every_dashboard_query_is_valid_promql(tmp_path):
    # promtool parses PromQL in rule files: each panel query as a recording rule.
    rules = [{"record": f"crm:panel_{index}", "expr": expr} for index, expr in enumerate(dashboard_expressions())]
    (tmp_path / "panels.yml").write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = promtool("check", "rules", "panels.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


SERIES_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def test_alerts_and_dashboard_use_only_metrics_the_service_exports():
    # By family: a labelled metric has no sample before its first use.
    exported = {
        metric.name + suffix for metric in REGISTRY.collect() for suffix in SERIES_SUFFIXES.get(metric.type, ("",))
    }
    used = {name for expr in alert_expressions() + dashboard_expressions() for name in re.findall(r"\bcrm_\w+", expr)}
    assert used and used <= exported, sorted(used - exported)


def test_the_dashboard_uses_the_provisioned_datasource():
    provisioned = yaml.safe_load((OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in provisioned["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], panel["title"]


def test_prometheus_in_compose_scrapes_every_process_where_it_serves_metrics():
    compose = yaml.safe_load((OPS.parent / "docker-compose.yml").read_text())["services"]
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    } | {  # every replica of a worker, found by DNS
        f"{name}:{found['port']}"
        for job in config["scrape_configs"]
        for found in job.get("dns_sd_configs", [])
        for name in found["names"]
    }
    assert {target.split(":")[0] for target in targets} == {"api", "relay", "projector", "integration", "imports"}
    for target in targets:
        service, port = target.split(":")
        command = compose[service]["command"]
        served = (
            command[command.index("--port") + 1]
            if "--port" in command
            else compose[service]["environment"]["CRM_METRICS_PORT"]
        )
        assert served == port, target
    mounted = " ".join(compose["prometheus"]["volumes"])
    assert "ops/prometheus/alerts.yml" in mounted and "ops/prometheus/prometheus.yml" in mounted


def test_the_image_installs_from_the_lock_with_the_makefiles_uv_and_runs_as_a_user():
    root = OPS.parent
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (root / "Makefile").read_text(), re.M)
    dockerfile = (root / "Dockerfile").read_text()
    assert makefile_uv and f"uv=={makefile_uv.group(1)}" in dockerfile
    assert dockerfile.count("uv sync --locked") == 2 and "UV_COMPILE_BYTECODE=1" in dockerfile
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^USER crm$", runtime, re.M) and "HEALTHCHECK" in runtime


def test_every_process_in_compose_has_a_health_check_of_its_own():
    services = yaml.safe_load((OPS.parent / "docker-compose.yml").read_text())["services"]
    for worker in ("relay", "projector", "integration", "imports"):
        assert services[worker]["healthcheck"]["test"][-1] == "worker", worker
        assert services[worker]["environment"]["CRM_METRICS_PORT"], worker
    # The API keeps the image's own check (/health).
    assert "healthcheck" not in services["api"]
