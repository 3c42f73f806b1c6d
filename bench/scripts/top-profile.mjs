// Summarises a V8 .cpuprofile: share of samples idle, and the functions (and packages) with the most self time.
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// A service bundle (scripts/bundle.mjs) is one file: each line is traced back to the module it came from through
// the `// path` comment esbuild puts before every module.
const bundles = new Map();
function moduleOf(url, line) {
  if (!url.endsWith('/dist/bundle/server.js')) return url;
  let starts = bundles.get(url);
  if (!starts) {
    starts = [];
    readFileSync(new URL(url), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const m = /^\/\/ (\.\.\/\S+|src\/\S+|dist\/\S+)$/.exec(text);
        if (m) starts.push([i, m[1]]);
      });
    bundles.set(url, starts);
  }
  let lo = 0;
  let hi = starts.length - 1;
  let found = url;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid][0] <= line) {
      found = starts[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found.replace(/^(\.\.\/)+/, '');
}
const limit = Number(process.argv[3] ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
let total = 0;
const byPackage = new Map();
for (const [id, n] of counts) {
  total += n;
  const node = byId.get(id);
  const f = node.callFrame;
  const where = moduleOf(f.url, f.lineNumber)
    .replace(/^.*node_modules\/\.pnpm\/([^/]+)\/.*$/, '$1')
    .replace(/^file:\/\/\/work\/main\//, '');
  const key = `${f.functionName || '(anon)'} ${where}:${f.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + n);
  const pkg = f.url === '' ? f.functionName : where.split('/').slice(0, 2).join('/');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + n);
}
// Shares of the busy time (samples not idle): a profile of a whole bench run is mostly idle.
const idle = byPackage.get('(idle)') ?? 0;
const pct = (n) => `${((n / (total - idle)) * 100).toFixed(1)}%`;
console.log(`samples ${total}, idle ${((idle / total) * 100).toFixed(1)}%; shares below are of the busy samples`);
console.log('-- by package/area');
for (const [k, n] of [...byPackage]
  .filter(([k]) => k !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, 25))
  console.log(pct(n).padStart(6), k);
console.log('-- by function (self)');
for (const [k, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(pct(n).padStart(6), k);
