# syntax=docker/dockerfile:1
# The production image (docs/deploy.md): PostgreSQL via DATABASE_URL, SECRET_KEY required
# (BIHUAN_ENV=production). The same image runs the web app (default command) and the worker
# (`bihuan worker`).

# 1. The board's chart library: Apache ECharts from the npm registry, pinned by
#    package-lock.json, as `make install` builds it in a checkout.
FROM node:20-slim AS charts
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
    && mkdir vendor \
    && cp node_modules/echarts/dist/echarts.common.min.js vendor/echarts.min.js \
    && cp node_modules/echarts/LICENSE vendor/echarts.LICENSE

# 2. The wheel: the app with its migrations, templates, static files (charts included) and data.
FROM python:3.11-slim AS wheel
WORKDIR /build
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY migrations ./migrations
COPY --from=charts /build/vendor ./app/web/static/vendor
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# 3. The runtime: the installed wheel only, run by an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BIHUAN_ENV=production \
    MEDIA_ROOT=/data/media
COPY --from=wheel /dist /tmp/dist
RUN pip install /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin bihuan \
    && mkdir -p /data/media \
    && chown -R bihuan /data
WORKDIR /data
USER 10001
EXPOSE 8000
VOLUME ["/data"]
# Liveness only: /readyz (database, schema, storage) is for the load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# The web app migrates first (idempotent; concurrent starts on PostgreSQL wait on Alembic's
# version row). The worker: `docker run <image> bihuan worker --metrics-port 9101`.
CMD ["sh", "-c", "bihuan check-config && bihuan migrate && exec bihuan serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
