#!/usr/bin/env bash
# Pins the third-party images the build and the compose stack pull to the digests their tags point at now
# (`name:tag` -> `name:tag@sha256:…`), so a rebuild or a `compose pull` gets the same bytes until someone re-pins.
#
# Usage, from the repository root, on a machine that reaches the registries:
#   infra/pin-images.sh           pin (or re-pin) every reference in infra/Dockerfile and infra/compose.yaml
#   infra/pin-images.sh --check   exit 1, naming them, if any reference is not pinned (for a release pipeline)
#
# Digests are read with skopeo (`skopeo inspect`) or, without it, `docker buildx imagetools inspect`. PIN_RESOLVER
# replaces both: a command that takes an image reference and prints its digest (tests/infra uses it). Our own image
# (partner-oauth:*) is built here and is not pinned; releases refer to it by tag in infra/k8s/kustomization.yaml.
set -euo pipefail

root=${PIN_IMAGES_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
dockerfile="$root/infra/Dockerfile"
compose="$root/infra/compose.yaml"

# Every pullable reference: the Dockerfile's NODE_IMAGE default and compose's image: lines, our own image aside.
references() {
  sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' "$dockerfile"
  sed -n 's/^ *image: *\([^ #]*\).*$/\1/p' "$compose" | grep -v '^partner-oauth:' || true
}

digest_of() {
  local ref=$1
  if [ -n "${PIN_RESOLVER:-}" ]; then
    $PIN_RESOLVER "$ref"
  elif command -v skopeo >/dev/null 2>&1; then
    skopeo inspect --format '{{.Digest}}' "docker://$ref"
  elif command -v docker >/dev/null 2>&1; then
    docker buildx imagetools inspect "$ref" --format '{{json .Manifest.Digest}}' | tr -d '"'
  else
    echo "pin-images: neither skopeo nor docker is installed (or set PIN_RESOLVER)" >&2
    return 1
  fi
}

if [ "${1:-}" = "--check" ]; then
  unpinned=$(references | grep -v '@sha256:[0-9a-f]\{64\}$' || true)
  if [ -n "$unpinned" ]; then
    echo "pin-images: not pinned by digest (run infra/pin-images.sh):" >&2
    echo "$unpinned" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "pin-images: every image is pinned by digest"
  exit 0
fi

# Every digest first, then the files: a registry error leaves them as they were.
pins=()
for ref in $(references | sort -u); do
  tagged=${ref%@*}
  digest=$(digest_of "$tagged")
  if ! [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
    echo "pin-images: $tagged: the registry answered '$digest', not a digest" >&2
    exit 1
  fi
  pins+=("$ref" "$tagged@$digest")
done
for ((i = 0; i < ${#pins[@]}; i += 2)); do
  # Literal replacement of the whole reference (dots and slashes in image names are not patterns).
  for file in "$dockerfile" "$compose"; do
    REF="${pins[i]}" PINNED="${pins[i + 1]}" perl -pi -e 's/(?<![\w.\/:-])\Q$ENV{REF}\E(?![\w.\/:@-])/$ENV{PINNED}/g' "$file"
  done
  echo "pinned ${pins[i + 1]}"
done
