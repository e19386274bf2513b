#!/usr/bin/env bash
# The extractor benchmark on an NVIDIA GPU, with the gpu build (onnxruntime_gpu) and the fp32
# MiniLM (int8 dynamic quantization has no CUDA kernels). No arguments needed; extra ones are passed
# to the benchmark. Prints the device and the figures and writes them to tests/target/gpu-benchmark.txt.
# Needs: an NVIDIA driver, CUDA 12.x and cuDNN 9.x libraries on the library path (what
# onnxruntime_gpu 1.23 is built against), a JDK 17. Fails fast, with the reason, without them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/target/gpu-benchmark.txt
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-benchmark: no NVIDIA GPU here (nvidia-smi is missing or sees no device); nothing to measure." >&2
  exit 2
fi
device="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"
echo "gpu-benchmark: device: $device"
missing=""
for lib in libcudart.so.12 libcublasLt.so.12 libcublas.so.12 libcudnn.so.9; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing="$missing $lib"
done
if [ -n "$missing" ] && [ -z "${LD_LIBRARY_PATH:-}" ]; then
  echo "gpu-benchmark: CUDA 12 / cuDNN 9 libraries not found by ldconfig:$missing" >&2
  echo "gpu-benchmark: install them or put them on LD_LIBRARY_PATH; onnxruntime_gpu 1.23 needs them." >&2
  exit 2
fi
mkdir -p tests/target
BENCH_MAVEN_FLAGS="-Pgpu ${BENCH_MAVEN_FLAGS:-}" tests/benchmark.sh --out "$out" \
  -D backbone.provider=cuda -D backbone.name=all-minilm-l6-v2 -D backbone.batch.size=256 \
  -D extractor.batch.max.records=1024 "$@"
sed -i "1i device: $device" "$out"
echo "gpu-benchmark: figures in $out"
