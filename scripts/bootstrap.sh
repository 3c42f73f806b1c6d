#!/usr/bin/env bash
# `npm start` / `npm test` (and `pnpm start` / `pnpm test`): sets up whatever is missing (Node 24 and pnpm 12.4.2 from
# the npm registry, the dependencies, the build), then starts the product on the embedded default, or runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/toolchain.sh
# Turborepo's anonymous telemetry (and its notice) stay off for everything run from here.
export TURBO_TELEMETRY_DISABLED=1
# pnpm's "update available" notice: the version is pinned on purpose.
export npm_config_update_notifier=false
# Dependencies: installed when missing, or when the lockfile changed since (a pull).
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  pnpm install --frozen-lockfile
fi
case "${1:-}" in
  start)
    pnpm exec turbo run build --output-logs=errors-only
    exec node apps/standalone/dist/main.js
    ;;
  test)
    shift
    exec pnpm exec turbo run test --concurrency=1 "$@"
    ;;
  *)
    echo "usage: scripts/bootstrap.sh start|test" >&2
    exit 2
    ;;
esac
