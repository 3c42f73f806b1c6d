// Where a bench run's time goes besides CPU (issue 13): every second, for each of the bench's processes, the CPU it
// ran and the time it waited on a run queue, runnable but not running, from /proc/PID/task/TID/schedstat (kernel
// nanoseconds, all threads; the main threads of token-service and of the driver apart from their other threads), and
// the machine's idle share from /proc/stat. Postgres' backends serving the bench's database ("bench" in their process
// title) apart from its shared processes.
// Usage: start it, then the bench, in another shell; stop it with Ctrl-C. node bench/scripts/sched-wait.mjs
import { readdirSync, readFileSync } from 'node:fs';

const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process or thread ended between the listing and the read
  }
};

/** The group a process belongs to, from its command line; undefined for processes that are not the bench's. */
function groupOf(cmd) {
  if (cmd.includes('token-service/dist/bundle')) return 'token-service';
  if (cmd.includes('authorize-ui/dist/bundle')) return 'authorize-ui';
  if (cmd.includes('client-registry/dist/bundle')) return 'client-registry';
  if (cmd.includes('peer/server.js')) return 'peer';
  if (cmd.includes('floor/server.js')) return 'floor';
  if (cmd.includes('bench/dist/main.js')) return 'driver';
  // The bench starts its own redis-server on a free port; the machine's own listens on 6379.
  if (cmd.startsWith('redis-server') && !cmd.includes(':6379')) return 'redis';
  if (cmd.startsWith('postgres:')) return cmd.includes('bench') ? 'postgres' : 'postgres (shared)';
  return undefined;
}

/** Per thread: its group (main threads of token-service and the driver named apart), CPU and run-queue wait in ns. */
function threads() {
  const out = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const group = groupOf((read(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' '));
    if (!group) continue;
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/schedstat`);
      if (!stat) continue;
      const [cpu, wait] = stat.split(' ').map(Number);
      const main = tid === pid && (group === 'token-service' || group === 'driver');
      out.set(`${pid}/${tid}`, { group: main ? `${group} main` : group, cpu, wait });
    }
  }
  return out;
}

const cpuLine = () => (read('/proc/stat') ?? '').split('\n')[0].split(/\s+/).slice(1).map(Number);

let before = threads();
let cpuBefore = cpuLine();
setInterval(() => {
  const now = threads();
  const byGroup = new Map();
  for (const [key, t] of now) {
    const prev = before.get(key) ?? t;
    const g = byGroup.get(t.group) ?? { cpu: 0, wait: 0 };
    g.cpu += (t.cpu - prev.cpu) / 1e6;
    g.wait += (t.wait - prev.wait) / 1e6;
    byGroup.set(t.group, g);
  }
  before = now;
  const cpuNow = cpuLine();
  const delta = cpuNow.map((v, i) => v - (cpuBefore[i] ?? 0));
  cpuBefore = cpuNow;
  const total = delta.reduce((a, b) => a + b, 0) || 1;
  // /proc/stat: user nice system idle iowait irq softirq steal
  const share = (i) => `${Math.round((100 * (delta[i] ?? 0)) / total)}%`;
  const machine = `idle ${share(3)} iowait ${share(4)} softirq ${share(6)} steal ${share(7)}`;
  const groups = [...byGroup]
    .filter(([, g]) => g.cpu + g.wait >= 1)
    .map(([name, g]) => `${name} ${g.cpu.toFixed(0)}/${g.wait.toFixed(0)}`)
    .join(', ');
  console.log(`${new Date().toISOString().slice(11, 19)} ${machine} | ms ran/waited: ${groups}`);
}, 1000);
