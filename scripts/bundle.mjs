// The production start file of a service: `node ../../scripts/bundle.mjs` from an app's folder (its `build`) bundles
// the compiled dist/server.js and everything it imports into one tree-shaken ES module, dist/bundle/server.js, with a
// source map. A service started from it loads only the code it runs (docs/performance.md: peak RSS under the bench).
// `--external=NAME` (repeatable) leaves a package to be loaded from node_modules at run time: one that reads files of
// its own folder (client-registry's @fastify/swagger-ui serves its static assets from there).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const app = process.cwd();
// esbuild is each service's own devDependency (at the root it would give vite, an optional peer of esbuild, a second
// copy for some packages and split vitest's types in two).
const { build } = createRequire(join(app, 'package.json'))('esbuild');
const externals = process.argv.filter((a) => a.startsWith('--external=')).map((a) => a.slice('--external='.length));
const result = await build({
  entryPoints: [join(app, 'dist/server.js')],
  // dist/bundle/ sits as deep as dist/plugins/: paths a module takes from import.meta.url (authorize-ui's views/
  // and public/) resolve to the same folders from the bundle.
  outfile: join(app, 'dist/bundle/server.js'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: true,
  // Only the production build of what reads NODE_ENV at run time stays; no minifying, so stack traces stay readable.
  treeShaking: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // Never reached by a service: the embedded database (development only, DATABASE_URL is required) and pg's
  // optional native binding.
  external: ['@electric-sql/pglite', 'pg-native', ...externals],
  // CommonJS dependencies inside an ES module still call require() and read __dirname / __filename.
  banner: {
    js: [
      "import { createRequire as __bundleCreateRequire } from 'node:module';",
      "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
      'const require = __bundleCreateRequire(import.meta.url);',
      'const __filename = __bundleFileURLToPath(import.meta.url);',
      "const __dirname = __bundleFileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
});
mkdirSync(join(app, 'dist/bundle'), { recursive: true });
writeFileSync(join(app, 'dist/bundle/meta.json'), JSON.stringify(result.metafile));
