// Where the servers may send a request of their own (SSRF defence, RFC 9700 §4.16 spirit): the address rules
// for URLs a partner registers (remove_url) and the fetch that resolves, checks and connects to the checked address.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';

export interface OutboundPolicy {
  /**
   * Loopback (127.0.0.0/8, ::1, `localhost`) and plain http to it: for development only, where an example
   * partner listens on this machine (WEBHOOK_ALLOW_LOOPBACK). Private ranges stay refused either way.
   */
  allowLoopback: boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// Every range that is not the public Internet: a server of ours must never be steered into one.
const forbidden = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches the local host
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  forbidden.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 96], // unspecified and IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped: would reach whatever IPv4 address it carries
  ['64:ff9b::', 96], // NAT64, likewise
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4, carries an IPv4 address
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  forbidden.addSubnet(net, bits, 'ipv6');
}

/** Names that never mean a public host: RFC 6761/6762/8375 special-use and de-facto internal suffixes. */
const INTERNAL_SUFFIXES = ['.local', '.internal', '.intranet', '.lan', '.home.arpa', '.localdomain', '.corp'];

const isLoopbackName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/** Why a server must not connect to `address` (an IP literal, IPv6 without brackets), or null when it may. */
export function addressProblem(address: string, policy: OutboundPolicy): string | null {
  const family = isIP(address);
  if (family === 0) return 'is not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(address, type)) return policy.allowLoopback ? null : 'is a loopback address';
  if (forbidden.check(address, type)) return 'is a private, link-local, unique-local, reserved or multicast address';
  return null;
}

/** Why a URL host (as `URL.hostname` gives it) must not be sent requests, without resolving it, or null. */
export function hostProblem(hostname: string, policy: OutboundPolicy): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) {
    const problem = addressProblem(literal, policy);
    return problem ? `host ${problem}` : null;
  }
  if (isLoopbackName(host)) return policy.allowLoopback ? null : 'host is a loopback name';
  // A single label resolves through the resolver's search list: an internal host by construction.
  if (!host.includes('.')) return 'host must be a fully qualified public name';
  if (INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) return 'host is an internal name';
  return null;
}

/** Why the server must not POST to `value`: https only (http only to loopback when allowed), a public host. */
export function outboundUrlProblem(value: string, policy: OutboundPolicy): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute https URL';
  const problem = hostProblem(url.hostname, policy);
  if (problem) return problem;
  if (url.protocol === 'http:') {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const isLoopback = isLoopbackName(host.toLowerCase()) || (isIP(host) !== 0 && loopback.check(host, isIP(host) === 4 ? 'ipv4' : 'ipv6'));
    if (!(policy.allowLoopback && isLoopback)) return 'must be an absolute https URL';
  }
  return null;
}

/** Resolves a host name: every address it has, as `dns.lookup({ all: true })` gives them. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  readonly code = 'EOUTBOUNDREFUSED';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls.connect that refuses a name when any of its addresses is forbidden, and hands the
 * socket exactly the addresses it checked: a DNS answer that changes between check and connect (rebinding)
 * cannot slip in, because there is no second resolution.
 */
export function checkedLookup(policy: OutboundPolicy, resolver: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | number, callback: LookupCallback): void => {
    resolver(hostname).then(
      (addresses) => {
        const wanted = typeof options === 'object' ? options.family : options;
        const usable = addresses.filter((a) => !wanted || wanted === 0 || a.family === Number(String(wanted).replace('IPv', '')));
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
        const bad = usable.find((a) => addressProblem(a.address, policy) !== null);
        if (bad)
          return callback(new OutboundRefused(`${hostname} resolves to ${bad.address}, which ${addressProblem(bad.address, policy)}`), []);
        if (typeof options === 'object' && options.all)
          return callback(
            null,
            usable.map((a) => ({ address: a.address, family: a.family })),
          );
        const [first] = usable as [LookupAddress];
        callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}

export interface GuardedFetchOptions extends OutboundPolicy {
  resolver?: Resolver;
  /** Bounds each connection attempt; the caller's signal bounds the whole exchange. */
  connectTimeoutMs?: number;
}

/**
 * A fetch that only ever talks to public addresses: the URL is checked as registration checks it, a name
 * is resolved once and refused if any address is private, the socket goes to the address that was checked,
 * and redirects are never followed (a 3xx is returned as it is).
 */
export function guardedFetch(opts: GuardedFetchOptions): typeof fetch {
  const policy = { allowLoopback: opts.allowLoopback };
  const dispatcher: Dispatcher = new Agent({
    connect: { lookup: checkedLookup(policy, opts.resolver), timeout: opts.connectTimeoutMs ?? 5_000 },
    // The response is read at most in part; no pipelining, no pool of kept-alive sockets to a partner.
    pipelining: 0,
    maxHeaderSize: 16 * 1024,
  });
  const guarded = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const problem = outboundUrlProblem(url, policy);
    if (problem) throw new OutboundRefused(`${redactUrl(url)}: ${problem}`);
    // undici's fetch takes our dispatcher; its Response is the web-standard one.
    const response = await undiciFetch(url, { ...(init as object), redirect: 'manual', dispatcher } as Parameters<typeof undiciFetch>[1]);
    return response as unknown as Response;
  };
  return guarded as typeof fetch;
}

/** The URL without query or fragment, for error messages that land in the database and logs. */
function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return 'URL';
  }
}
