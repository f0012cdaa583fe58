FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/base.txt
COPY . .
# Build-time only values: collectstatic needs settings to load, not real secrets.
RUN DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_ALLOWED_HOSTS=build \
    DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-xx python manage.py collectstatic --no-input
RUN useradd --system throughline
USER throughline
EXPOSE 8000
