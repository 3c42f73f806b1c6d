#!/usr/bin/env bash
# The CI step "image": builds infra/Dockerfile with podman (no Docker daemon) on a local Node 24 base (infra/image-base.sh),
# then runs tests/e2e/image (migrate, the three services as containers, the seed's flow, code not writable) against
# loopback Postgres and Redis in a database and key prefix of its own. Bounded by IMAGE_TEST_TIMEOUT seconds (900).
# Run as root from anywhere: infra/image-test.sh. Everything it makes (image store, database, keys) is removed after.
set -euo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/.."
if [ -z "${IMAGE_TEST_BOUNDED:-}" ]; then
  exec timeout --kill-after=30 "${IMAGE_TEST_TIMEOUT:-900}" env IMAGE_TEST_BOUNDED=1 "$self" "$@"
fi
. scripts/toolchain.sh

missing=()
for tool in podman buildah runc debootstrap fuse-overlayfs; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "image: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A store of its own (vfs: no overlay mounts needed), so nothing here touches the machine's other images or containers.
# IMAGE_TEST_STORE names a store to keep between runs (its build cache makes a second run quick); CI starts from nothing.
store=${IMAGE_TEST_STORE:-$(mktemp -d /var/tmp/partner-oauth-image.XXXXXX)}
podman_cmd=(podman --root "$store/root" --runroot "$store/run" --storage-driver vfs --runtime runc --cgroup-manager cgroupfs --events-backend file)
suffix=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
database=partner_oauth_image_$suffix
prefix=poauth-image-$suffix:
pg=(psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -d postgres)
cleanup() {
  "${podman_cmd[@]}" rm --all --force --time 0 >/dev/null 2>&1 || true
  "${pg[@]}" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$prefix*" | xargs -r redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
  [ -n "${IMAGE_TEST_STORE:-}" ] || rm -rf "$store"
}
trap cleanup EXIT
trap 'exit 124' TERM INT

started=$SECONDS
base=$(infra/image-base.sh "${podman_cmd[@]:1}")
echo "image: base $base ready after $((SECONDS - started)) s"
image=localhost/partner-oauth:image-test
"${podman_cmd[@]}" build --format docker --isolation chroot --network host --file infra/Dockerfile --ignorefile infra/Dockerfile.dockerignore \
  --build-arg NODE_IMAGE="$base" --tag "$image" . >"$store/build.log" 2>&1 || {
  tail -n 80 "$store/build.log"
  echo "image: the build failed"
  exit 1
}
echo "image: $image built after $((SECONDS - started)) s ($("${podman_cmd[@]}" image inspect --format '{{.Size}}' "$image") bytes)"

"${pg[@]}" -c "CREATE DATABASE $database"
# podman 4.3 sets nofile 1048576 and nproc 32768 even with `--ulimit host`, and a limit above the machine's own is
# refused (EPERM): ask for the machine's open-files limit and a process limit a service never reaches.
nofile=$(ulimit -Hn)
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; then nofile=65536; fi
IMAGE_TEST_RUN_OPTIONS="--ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096" \
  IMAGE_TEST_IMAGE=$image IMAGE_TEST_PODMAN="${podman_cmd[*]}" \
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="$prefix" \
  pnpm --filter @partner-oauth/e2e exec vitest run --config vitest.image.config.ts
echo "image: passed in $((SECONDS - started)) s"
