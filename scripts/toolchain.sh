#!/usr/bin/env bash
# Source this: puts Node 24 and pnpm 12.4.2 on PATH, installing them from the npm registry (with the machine's npm,
# Node 20 is enough) into one folder when missing. Usage: . scripts/toolchain.sh
_poauth_node_dir="${POAUTH_NODE_DIR:-$HOME/.cache/partner-oauth/node24}"
_poauth_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
_poauth_npm() { npm install --silent --no-audit --no-fund --no-update-notifier --save-exact --prefix "$_poauth_node_dir" "$@" >&2; }
if [ "$(_poauth_major)" -lt 24 ]; then
  if [ ! -x "$_poauth_node_dir/node_modules/node/bin/node" ]; then
    echo "toolchain: installing Node 24 into $_poauth_node_dir" >&2
    _poauth_npm node@24
  fi
  export PATH="$_poauth_node_dir/node_modules/node/bin:$PATH"
fi
# pnpm comes from the same folder, never from corepack or a global install that may be another version.
if [ "$("$_poauth_node_dir/node_modules/.bin/pnpm" --version 2>/dev/null)" != "12.4.2" ]; then
  echo "toolchain: installing pnpm 12.4.2 into $_poauth_node_dir" >&2
  _poauth_npm pnpm@12.4.2
fi
export PATH="$_poauth_node_dir/node_modules/.bin:$PATH"
hash -r
echo "toolchain: node $(node --version), pnpm $(pnpm --version)" >&2
unset -f _poauth_major _poauth_npm
