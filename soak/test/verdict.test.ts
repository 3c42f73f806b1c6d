// The soak's verdict: it passes a run whose memory is flat and whose tables stay within the retention window, and fails the others.
import { describe, expect, it } from 'vitest';
import { type Sample, verdict } from '../src/sample.js';

const OPTS = { warmupS: 300, windowS: 180, inFlight: 6, memoryRequestMb: { svc: 256 }, pruned: ['access_tokens'] };

/** A 60-minute run sampled every 30 s: 10 flows/s, RSS and ended rows as the functions say. */
function run(rss: (t: number) => number, endedRows: (t: number, flows: number) => number, live = 5): Sample[] {
  const samples: Sample[] = [];
  for (let t = 0; t <= 3600; t += 30) {
    const flows = t * 10;
    samples.push({
      at: t * 1000,
      elapsedS: t,
      requests: flows * 9,
      flows,
      errors: 0,
      procs: { svc: { rssMb: rss(t), heapUsedMb: 40, fds: 40, lagP99Ms: 50 } },
      rows: { access_tokens: endedRows(t, flows) + live },
      live: { access_tokens: live },
      redisKeys: 100,
      logBytes: {},
    });
  }
  return samples;
}

const flat = () => 200;
// What a working sweep leaves: the rows of the last ~2 minutes (retention 90 s + up to a sweep interval).
const pruned = (t: number) => Math.min(t, 120) * 10;

describe('soak verdict', () => {
  it('passes flat memory under the request and rows bounded by the window', () => {
    const v = verdict(run(flat, pruned), OPTS);
    expect(v.lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('fails a table that keeps what ended', () => {
    const v = verdict(
      run(flat, (_t, flows) => flows),
      OPTS,
    );
    expect(v.ok).toBe(false);
    expect(v.lines.find((l) => l.includes('access_tokens'))).toMatch(/^FAIL/);
  });

  it('does not count live rows against the window', () => {
    expect(verdict(run(flat, pruned, 5000), OPTS).ok).toBe(true);
  });

  it('fails memory that grows after warm-up, and memory over the request', () => {
    expect(
      verdict(
        run((t) => 150 + t / 30, pruned),
        OPTS,
      ).lines[0],
    ).toMatch(/^FAIL svc: .*growing/);
    expect(
      verdict(
        run(() => 300, pruned),
        OPTS,
      ).lines[0],
    ).toMatch(/^FAIL svc: .*>= request 256 MB/);
  });

  it('refuses to judge a run too short for its warm-up or window', () => {
    const short = run(flat, pruned).filter((s) => s.elapsedS <= 240);
    const v = verdict(short, OPTS);
    expect(v.ok).toBe(false);
    expect(v.lines.join('\n')).toMatch(/too few samples/);
  });
});
