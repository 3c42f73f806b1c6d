#!/bin/sh
# Sets the release (the image tag) everywhere the manifests name it: the services' kustomization and the migration
# Job's, which is also named after it. Usage: infra/k8s/set-release.sh 1.1.0
set -eu
tag="${1:?usage: set-release.sh <image tag>}"
case "$tag" in
  *[!a-z0-9._-]* | [.-]*) echo "set-release: $tag is not an image tag usable in a Job name" >&2; exit 1 ;;
esac
dir="$(dirname "$0")"
sed -i "s/^\(    newTag: \).*/\1$tag/" "$dir/kustomization.yaml" "$dir/migrate/kustomization.yaml"
sed -i "s/^nameSuffix: .*/nameSuffix: -$tag/" "$dir/migrate/kustomization.yaml"
