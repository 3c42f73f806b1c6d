// RFC 9700 §2.1, RFC 8252 §7: the registry refuses every dangerous redirect URI, so none is ever stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, type Product, registryPost, startProduct } from './support/product.js';

let p: Product;

beforeAll(async () => {
  p = await startProduct();
});
afterAll(async () => p.close());

const countClients = async () =>
  Number(
    (
      await p.t.db
        .selectFrom('clients')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const dangerous: [string, string, string][] = [
  ['a javascript: URI', 'javascript:alert(1)', 'scheme javascript: is not allowed'],
  ['a data: URI', 'data:text/html,<script>alert(1)</script>', 'scheme data: is not allowed'],
  ['a blob: URI', 'blob:https://partner.example/0f0e', 'scheme blob: is not allowed'],
  ['a file: URI', 'file:///etc/passwd', 'scheme file: is not allowed'],
  ['a vbscript: URI', 'vbscript:msgbox(1)', 'scheme vbscript: is not allowed'],
  ['non-loopback http', 'http://partner.example/callback', 'http is allowed only on loopback hosts; use https'],
  [
    'http on a host that merely starts with localhost',
    'http://localhost.evil.example/callback',
    'http is allowed only on loopback hosts; use https',
  ],
  ['a wildcard host', 'https://*.partner.example/callback', 'must not contain wildcards'],
  ['a wildcard path', 'https://partner.example/*', 'must not contain wildcards'],
  ['a fragment', 'https://partner.example/callback#frag', 'must not contain a fragment'],
  ['an empty fragment', 'https://partner.example/callback#', 'must not contain a fragment'],
  ['userinfo', 'https://user:pass@partner.example/callback', 'must not contain userinfo'],
  ['userinfo hiding the real host', 'https://partner.example@evil.example/callback', 'must not contain userinfo'],
  ['a relative URI', '/callback', 'must be an absolute URI'],
  ['a protocol-relative URI', '//evil.example/callback', 'must be an absolute URI'],
  ['a backslash', 'https://partner.example\\@evil.example/callback', 'must not contain spaces, control characters or backslashes'],
  ['CR/LF', 'https://partner.example/callback\r\nSet-Cookie: a=b', 'must not contain spaces, control characters or backslashes'],
  ['a tab the URL parser would strip', 'https://partner.exa\tmple/callback', 'must not contain spaces, control characters or backslashes'],
  ['no authority (https:host/path)', 'https:a.example/cb', 'must have an authority (scheme://host/…)'],
  ['no authority on loopback http', 'http:localhost/cb', 'must have an authority (scheme://host/…)'],
  ['a host carrying a CSP directive', 'https://a.example;frame-ancestors/cb', 'must name a valid host'],
  ['a host with a quote', "https://a.example'/cb", 'must name a valid host'],
  ['a host with an underscore label edge', 'https://-a.example/cb', 'must name a valid host'],
];

describe('POST /v1/clients redirect_uris', () => {
  for (const [attack, uri, problem] of dangerous) {
    it(`registry: ${attack} is refused with invalid_redirect_uri and nothing is stored`, async () => {
      const before = await countClients();
      const res = await registryPost(p.registry, '/v1/clients', {
        client_name: 'Evil',
        redirect_uris: ['https://partner.example/ok', uri],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_redirect_uri', message: `redirect_uris[1]: ${problem}` });
      expect(await countClients()).toBe(before);
    });
  }

  it('registry: changing a client’s redirect_uris to a dangerous one is refused and the stored ones are kept', async () => {
    const res = await p.registry.inject({
      method: 'PATCH',
      url: '/v1/clients/shoplifter',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ redirect_uris: ['javascript:alert(1)'] }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_redirect_uri', message: 'redirect_uris[0]: scheme javascript: is not allowed' });
    const row = await p.t.db.selectFrom('clients').select('redirect_uris').where('client_id', '=', 'shoplifter').executeTakeFirstOrThrow();
    expect(row.redirect_uris).toEqual(['http://localhost:4000/callback']);
  });

  it('registry: no stored redirect URI anywhere is dangerous after the attempts', async () => {
    const rows = await p.t.db.selectFrom('clients').select('redirect_uris').execute();
    for (const uri of rows.flatMap((r) => r.redirect_uris)) expect(uri).toMatch(/^(https:\/\/|http:\/\/localhost[:/])/);
  });
});
