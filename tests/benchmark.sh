#!/usr/bin/env bash
# Extractor benchmark on this machine (CPU unless -D backbone.provider=cuda on a GPU build).
# Prints raw-backbone and whole-extractor sentences/s, their ratio, produce-to-feature p50/p99,
# and writes them to tests/target/benchmark.txt (or --out FILE).
# Usage: tests/benchmark.sh [--texts N] [--out FILE] [-D key=value ...] ; extra Maven flags in BENCH_MAVEN_FLAGS
#        tests/benchmark.sh images [--images N] [-D key=value ...]
#                                   (image backbone alone vs the whole extractor, images/s and ratio)
#        tests/benchmark.sh freshness [--candidates N] [--requests N]   (registry-to-client freshness, /predict)
#        tests/benchmark.sh trainer [--texts N] [--tasks N] [--per-task N] [--seconds S] [--sweep]
#                                   (heads and trainer: examples/s per thread, state size, memory of N tasks)
#        tests/benchmark.sh pipeline [--examples N] [--tasks N] [--heads lda,sgd] [--no-many] [--no-latency] [--only-many]
#                                   (vector examples through extractor, trainer, registry: drain rates per stage
#                                    against each head alone, end to end, 100 tasks, latency at half capacity)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B ${BENCH_MAVEN_FLAGS:-} -DskipTests install
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx3g}"
main=io.headwater.tests.bench.ExtractorBenchmark
if [ "${1:-}" = freshness ]; then
  main=io.headwater.tests.bench.FreshnessBenchmark
  shift
elif [ "${1:-}" = pipeline ]; then
  main=io.headwater.tests.bench.PipelineBenchmark
  shift
elif [ "${1:-}" = trainer ]; then
  main=io.headwater.tests.bench.TrainerBenchmark
  shift
fi
./mvnw -q -B ${BENCH_MAVEN_FLAGS:-} -pl tests exec:java -Dai.djl.offline=true \
  -Dexec.classpathScope=test -Dexec.mainClass="$main" -Dexec.args="$*"
