# Segment Explainer: the Gradio app on port 7860.
#   docker build -t segment-explainer .
#   docker run --rm -p 7860:7860 segment-explainer        # then open http://localhost:7860
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False

# LightGBM's wheel links the system OpenMP runtime, which the slim image does not have.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user (uid 1000, as on Hugging Face Spaces) runs the app.
RUN useradd --create-home --uid 1000 app
WORKDIR /home/app/segment-explainer

# Dependencies first, so a code change does not reinstall them; constraints.txt pins the tested versions.
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt

COPY segmenter/ segmenter/
COPY explainers/ explainers/
COPY templates/ templates/
COPY app.py app_session.py cli.py ./

USER app
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=4)"]
CMD ["python", "app.py"]
