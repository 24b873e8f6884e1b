# The crm image: one image, four processes (api, relay, projector, integration), chosen by
# the command. Built from uv.lock: exactly the versions and hashes the tests ran with.

# Build: resolve nothing, install the locked packages and the project into /app/.venv,
# compiled to bytecode (the runtime user can't write __pycache__, and starts faster).
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install uv==0.13.9
WORKDIR /app
# The dependencies first, in a layer of their own that source changes don't invalidate.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-editable
COPY README.md ./
COPY src ./src
RUN uv sync --locked --no-editable

# Runtime: the virtual environment only (no uv, no compilers, no sources beside it).
FROM python:3.11-slim AS runtime
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    CRM_ACCESS_LOG_SPOOL_DIR=/var/lib/crm/access-log-spool
RUN useradd --system --uid 10001 --home-dir /var/lib/crm --create-home crm
COPY --from=build /app/.venv /app/.venv
WORKDIR /var/lib/crm
USER crm
EXPOSE 8000
# The API's check; each worker's service overrides it with `... healthcheck worker`, which
# reads the worker's heartbeat on its metrics port (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s \
    CMD ["python", "-m", "interfaces.cli.healthcheck", "api"]
CMD ["crm", "api", "--host", "0.0.0.0", "--port", "8000"]
