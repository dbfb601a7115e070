/**
 * See the browser test with your own eyes: `npx tsx test/browser/serve-page.ts [port]`
 * bundles the same page script as test/browser/connect-browser.test.ts and
 * serves it on http://127.0.0.1:PORT/ (loopback only; a localhost origin is a
 * secure context, so crypto.subtle works). Open the URL in a browser: the
 * page runs the connect() scenario (two stacks on a MemoryNetwork, in the
 * page) and prints the result. Ctrl-C to stop.
 */
import { createServer } from 'node:http';
import { bundlePage } from './bundle.js';

const bundle = await bundlePage();
if (bundle.problems.length > 0) {
  console.error(`the page does not bundle for the browser:\n${bundle.problems.join('\n')}`);
  process.exit(1);
}

const html = `<!doctype html>
<meta charset="utf-8">
<title>sockstack connect() in the browser</title>
<h1>sockstack <code>connect()</code> in this page</h1>
<p>Two Stacks on a MemoryNetwork; the client pipes 1 MiB through <code>writable</code>, the server echoes it back.</p>
<pre id="out">running...</pre>
<script type="module" src="/sockstack-page.js"></script>
<script type="module">
  const out = document.getElementById('out');
  try {
    for (const clock of ['system', 'virtual']) {
      const r = await globalThis.__sockstack.run({ seed: 8, size: 1 << 20, port: 7000, clock });
      window.__result = r;
      out.textContent = (clock === 'system' ? '' : out.textContent + '\\n\\n') + JSON.stringify(r, null, 2);
    }
  } catch (e) {
    out.textContent = 'FAILED: ' + (e && e.stack ? e.stack : String(e));
  }
</script>
`;

const server = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  } else if (req.url === '/sockstack-page.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
    res.end(bundle.code);
  } else {
    res.writeHead(404).end();
  }
});
const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  console.log(`sockstack connect() page: http://127.0.0.1:${actual}/  (bundle ${bundle.code.length} bytes; Ctrl-C to stop)`);
});
