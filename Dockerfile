# Backprop Lens as one image: `docker run -p 8000:8000 backprop-lens` (docs/deploy.md).
#
# The builder installs the project into /opt/venv as a plain wheel (`pip install .`, not
# editable), with every dependency at the version pinned in constraints.txt. The wheel
# carries app/static and app/templates as package data (app/static and app/templates are
# links to the top-level static/ and templates/), so the final stage needs only the venv.
# Both stages use the same venv path and the same base image, so the venv copied across
# still points at the right interpreter.

FROM python:3.11-slim-bookworm AS builder

WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# what the wheel is built from; .dockerignore drops caches and bytecode
COPY pyproject.toml README.md LICENSE constraints.txt ./
COPY app ./app
COPY engine ./engine
COPY templates ./templates
COPY static ./static

# every dependency has binary wheels (manylinux), so no compiler is needed here either;
# the `test` extra is not installed. Then the installed app must find its page: a checkout
# whose links app/static and app/templates became plain files (Git for Windows without
# core.symlinks) builds a wheel without them, and the image would crash at start, so the
# build stops here instead (-I: the installed package, not ./app)
RUN pip install --no-cache-dir -c constraints.txt . \
    && python -I -c "import app.main"


FROM python:3.11-slim-bookworm

# a fixed numeric uid: Kubernetes' runAsNonRoot can only verify a numeric USER
RUN useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin lens

COPY --from=builder /opt/venv /opt/venv

# the installed code stays root-owned and read-only for the app's user; the app writes no
# files (with BPL_METRICS_PORT set, `serve` keeps the workers' metrics in a folder of /tmp).
# MALLOC_ARENA_MAX=2: glibc's malloc keeps 2 arenas instead of 8 per core, so memory that
# runs and answers free on one thread is reused by the next (docs/deploy.md, "Sizing")
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    BPL_PORT=8000 \
    BPL_WORKERS=1 \
    BPL_BLAS_THREADS=1

WORKDIR /
USER 10001:10001
EXPOSE 8000

# slim images have no curl: ask /healthz with Python's urllib (any error or non-2xx fails)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BPL_PORT', '8000') + '/healthz', timeout=4)"]

# the worker count and every limit come from BPL_* environment variables (docs/deploy.md)
CMD ["backprop-lens", "serve", "--host", "0.0.0.0"]
