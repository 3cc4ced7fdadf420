# Vigil API image. Build: docker build -t vigil .   (docker-compose.yml wires it to PostgreSQL 16)
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml alembic.ini schema.graphql ./
COPY api ./api
COPY domain ./domain
COPY persistence ./persistence
COPY authz ./authz
COPY migrations ./migrations
RUN pip install --no-deps --no-build-isolation . \
    && useradd --system --uid 10001 --home /app vigil
USER vigil

ENV VIGIL_ENV=production VIGIL_HOST=0.0.0.0 VIGIL_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
# Migrations run in their own one-shot service (see docker-compose.yml), so replicas never race on them.
CMD ["vigil", "serve", "--no-migrate"]
