# CRM API (and, later, FAQ search): Python 3.11.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
COPY requirements/crm.lock requirements/crm.lock
# torch first and alone, so pip takes the CPU build (see Makefile).
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r requirements/crm.lock
COPY crm_backend crm_backend

EXPOSE 8000
CMD ["sh", "-c", "python -m crm_backend migrate && python -m crm_backend serve --host 0.0.0.0 --port 8000"]
