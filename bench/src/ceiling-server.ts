// The ceiling: a bare Fastify app on the same machine, a tiny JSON GET and a small form POST.
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(formbody);
app.get('/health/live', async () => ({ status: 'ok' }));
app.get('/json', async () => ({ hello: 'world' }));
app.post('/form', async (request) => ({ fields: Object.keys(request.body as object).length }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
