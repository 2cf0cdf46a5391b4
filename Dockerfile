FROM python:3.13-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
COPY usm_portal usm_portal
COPY alienapps alienapps
COPY sensors sensors
COPY activity activity
RUN pip install .
COPY . .
RUN useradd --create-home usm && mkdir -p /app/var && chown usm /app/var
USER usm
EXPOSE 8000
