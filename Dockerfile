# The crm image: one image, three processes (api, relay, projector), chosen by the command.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 crm
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-compile .
USER crm
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["crm", "api", "--host", "0.0.0.0", "--port", "8000"]
