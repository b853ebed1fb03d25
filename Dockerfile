# Production image: PostgreSQL via DATABASE_URL, SECRET_KEY required (BIHUAN_ENV=production).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BIHUAN_ENV=production \
    MEDIA_ROOT=/data/media

WORKDIR /srv/bihuan
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /srv/bihuan bihuan \
    && mkdir -p /data/media && chown -R bihuan /data

USER bihuan
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["sh", "-c", "bihuan migrate && exec bihuan serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
