# Vigil API image. Build: docker build -t vigil .   (docker-compose.yml wires it to PostgreSQL 16)
# Two stages: the build stage installs the run-time lock (requirements-prod.lock: no test or lint tools, no
# embedded PostgreSQL) into a virtualenv; the final stage copies that virtualenv and the source, nothing else.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/vigil
COPY requirements-prod.lock /tmp/requirements-prod.lock
RUN /opt/vigil/bin/pip install -r /tmp/requirements-prod.lock
WORKDIR /app
COPY pyproject.toml alembic.ini schema.graphql ./
COPY api ./api
COPY domain ./domain
COPY persistence ./persistence
COPY authz ./authz
COPY migrations ./migrations
# The project itself, editable (a .pth pointing at /app: alembic.ini and migrations/ stay beside the code). Its
# build backend is only needed here, and is removed from the virtualenv afterwards.
RUN /opt/vigil/bin/pip install setuptools \
    && /opt/vigil/bin/pip install --no-deps --no-build-isolation -e . \
    && /opt/vigil/bin/pip uninstall -y setuptools \
    && /opt/vigil/bin/python -m compileall -q api domain persistence authz migrations > /dev/null

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/vigil/bin:$PATH
RUN useradd --system --uid 10001 --home /app vigil
COPY --from=build /opt/vigil /opt/vigil
COPY --from=build /app /app
WORKDIR /app
USER vigil

ENV VIGIL_ENV=production VIGIL_HOST=0.0.0.0 VIGIL_PORT=8000
EXPOSE 8000
# Healthy means ready: the database answers and is at the migration head (not merely a live process).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)" || exit 1
# Migrations run in their own one-shot service, as the tables' owner (see docker-compose.yml); the API connects
# as the role that service grants, which cannot alter or drop the audit trail.
CMD ["vigil", "serve", "--no-migrate"]
