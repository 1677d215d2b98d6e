# Training image: train-on-shards (DDP via torchrun) on NVIDIA GPUs.
# Build from the repository root:  docker build -f docker/train.Dockerfile -t REGISTRY/webtext-train:0.1.0 .
FROM pytorch/pytorch:2.6.0-cuda12.4-cudnn9-runtime

WORKDIR /opt/webtext
COPY pyproject.toml README.md ./
COPY webtext webtext
COPY pipeline pipeline
COPY tokenizer tokenizer
COPY train train
# torch comes from the base image (a CUDA build); the [train] extra's range accepts it.
RUN pip install --no-cache-dir '.[train]'
ENTRYPOINT ["torchrun", "--standalone", "--nproc_per_node=gpu", "-m", "webtext.cli", "train-on-shards"]
