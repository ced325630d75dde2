# Common Measure: API and dashboard in one image. Configure with CM_* environment variables;
# production uses PostgreSQL (CM_DATABASE_URL=postgresql+psycopg://user:pass@host/db).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CM_HOST=0.0.0.0 \
    CM_PORT=8000 \
    CM_VAR_DIR=/var/lib/common-measure

RUN groupadd --system cm && useradd --system --gid cm --home-dir /app --shell /usr/sbin/nologin cm \
    && mkdir -p /var/lib/common-measure && chown cm:cm /var/lib/common-measure

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY dashboard ./dashboard
COPY models ./models
COPY migrations ./migrations
RUN pip install --no-compile .

USER cm
EXPOSE 8000
VOLUME ["/var/lib/common-measure"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"

# Migrations first, then serve; `exec` makes uvicorn PID 1's child-free replacement for signals.
CMD ["sh", "-c", "cm db upgrade && exec cm serve --host 0.0.0.0 --port 8000"]
