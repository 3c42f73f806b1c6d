// ETag and If-Match on PATCH and DELETE: 428 without it, 412 when stale, `*` to overwrite deliberately.
import { describe, expect, it } from 'vitest';
import { useApp, validClient } from './helpers.js';

const h = useApp();

async function fresh(): Promise<{ id: string; etag: string }> {
  const res = await h.call({ method: 'POST', url: '/v1/clients', payload: validClient });
  return { id: res.json().client_id, etag: res.headers.etag as string };
}

describe('ETag and If-Match', () => {
  it('gives a strong ETag on create and GET, and a new one after each change', async () => {
    const { id, etag } = await fresh();
    expect(etag).toBe('"r1"');
    const read = await h.call({ method: 'GET', url: `/v1/clients/${id}` });
    expect(read.headers.etag).toBe('"r1"');
    const patched = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': etag },
      payload: { description: 'v2' },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.headers.etag).toBe('"r2"');
    expect((await h.call({ method: 'GET', url: `/v1/clients/${id}` })).headers.etag).toBe('"r2"');
  });

  it('answers 428 to a PATCH or DELETE without If-Match, and changes nothing', async () => {
    const { id } = await fresh();
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await h.call({ method, url: `/v1/clients/${id}`, payload: method === 'PATCH' ? { description: 'x' } : undefined });
      expect(res.statusCode).toBe(428);
      expect(res.json()).toEqual({
        error: 'precondition_required',
        message: 'if-match: is required; send the ETag of your last GET (or * to overwrite)',
      });
    }
    const read = await h.call({ method: 'GET', url: `/v1/clients/${id}` });
    expect(read.json().description).toBe(validClient.description);
    expect(read.headers.etag).toBe('"r1"');
  });

  it('answers 412 with the current ETag when a second admin writes with a stale one', async () => {
    const { id, etag } = await fresh();
    const first = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': etag },
      payload: { description: 'admin A' },
    });
    expect(first.statusCode).toBe(200);
    const second = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': etag },
      payload: { description: 'admin B' },
    });
    expect(second.statusCode).toBe(412);
    expect(second.headers.etag).toBe('"r2"');
    expect(second.json()).toEqual({
      error: 'precondition_failed',
      message: 'if-match: the client has changed since that ETag; GET it again',
    });
    const del = await h.call({ method: 'DELETE', url: `/v1/clients/${id}`, headers: { 'if-match': etag } });
    expect(del.statusCode).toBe(412);
    expect((await h.call({ method: 'GET', url: `/v1/clients/${id}` })).json().description).toBe('admin A');
  });

  it('refuses a weak tag of the current revision (strong comparison), and accepts one of a list', async () => {
    const { id } = await fresh();
    const weak = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': 'W/"r1"' },
      payload: { description: 'x' },
    });
    expect(weak.statusCode).toBe(412);
    const list = await h.call({
      method: 'PATCH',
      url: `/v1/clients/${id}`,
      headers: { 'if-match': '"r9", "r1"' },
      payload: { description: 'y' },
    });
    expect(list.statusCode).toBe(200);
  });

  it('accepts * as a deliberate overwrite', async () => {
    const { id } = await fresh();
    const res = await h.call({ method: 'PATCH', url: `/v1/clients/${id}`, headers: { 'if-match': '*' }, payload: { description: 'z' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().description).toBe('z');
  });

  it('answers 404 before judging If-Match for an unknown client', async () => {
    const res = await h.call({ method: 'PATCH', url: '/v1/clients/nobody-here', payload: { description: 'x' } });
    expect(res.statusCode).toBe(404);
  });
});
