// A fleet polling one control plane: N clients (default 1000) each GET /config every INTERVAL ms
// (default 1000) with If-None-Match, over keep-alive connections, as llmsplit clients with
// config_url do, against one `llmsplit serve`. Halfway through, the split changes (a PATCH with
// the master key): every poller must see it within one interval. Reports serve's CPU (from
// /proc/PID/stat over the measured seconds), latency percentiles of the polls, and how long the
// last poller took to see the change. Node only, no packages.
// usage: node bench/config_pollers.mjs TOOL [--pollers N] [--seconds S] [--interval MS]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';

const args = process.argv.slice(2);
const tool = resolve(args[0] || 'build/llmsplit');
const opt = (name, def) => { const i = args.indexOf(name); return i > 0 ? Number(args[i + 1]) : def; };
const N = opt('--pollers', 1000), SECONDS = opt('--seconds', 30), INTERVAL = opt('--interval', 1000);
const READ = 'rk-bench', MASTER = 'mk-bench';

const tmp = mkdtempSync(join(tmpdir(), 'llmsplit-pollers-'));
const cfg = join(tmp, 'cfg.json');
writeFileSync(cfg, JSON.stringify({
  model_list: [
    { model_name: 'chat', litellm_params: { model: 'openai/gpt-a', api_base: 'http://127.0.0.1:9/v1', weight: 0.8 } },
    { model_name: 'chat', litellm_params: { model: 'openai/gpt-b', api_base: 'http://127.0.0.1:9/v1', weight: 0.2 } },
  ],
  general_settings: { master_key: MASTER, config_read_key: READ },
}, null, 2));
const serve = spawn(tool, ['serve', '--config', cfg, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((res, rej) => {
  let out = '';
  serve.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) res(m[1]); });
  serve.on('exit', (c) => rej(new Error('serve exited ' + c)));
});
const url = new URL(base);
const cpu = () => { /* utime + stime of serve, in seconds (clock ticks of 1/100 s on Linux) */
  const f = readFileSync(`/proc/${serve.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: N, maxFreeSockets: N });
function get(etag) {
  return new Promise((res) => {
    const t0 = process.hrtime.bigint();
    const headers = { Authorization: `Bearer ${READ}` };
    if (etag) headers['If-None-Match'] = etag;
    const rq = http.request({ host: url.hostname, port: url.port, path: '/config', agent, headers }, (r) => {
      r.resume();
      r.on('end', () => res({ status: r.statusCode, etag: r.headers.etag, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    rq.on('error', () => res({ status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    rq.end();
  });
}

const lat = [];
const counts = {};
let measuring = false, changedAt = 0, newEtag = null, stop = false;
const seen = new Array(N).fill(0);
async function poller(i) {
  let { etag } = await get(null);
  await new Promise((r) => setTimeout(r, Math.random() * INTERVAL)); /* a fleet starts at random moments */
  while (!stop) {
    const next = Date.now() + INTERVAL;
    const r = await get(etag);
    if (measuring) { lat.push(r.ms); counts[r.status] = (counts[r.status] || 0) + 1; }
    if (r.status === 200) {
      etag = r.etag;
      if (changedAt && etag === newEtag && !seen[i]) seen[i] = Date.now() - changedAt;
    }
    await new Promise((res) => setTimeout(res, Math.max(0, next - Date.now())));
  }
}

const fleet = Array.from({ length: N }, (_, i) => poller(i));
await new Promise((r) => setTimeout(r, 2 * INTERVAL)); /* everyone connected and polling */
measuring = true;
const c0 = cpu(), w0 = Date.now();
await new Promise((r) => setTimeout(r, SECONDS * 500));
/* the change, halfway */
const patch = await fetch(`${base}/config/groups/chat`, {
  method: 'PATCH', headers: { Authorization: `Bearer ${MASTER}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ weights: { 'gpt-a #0': 0.5, 'gpt-b #1': 0.5 } }),
});
changedAt = Date.now();
newEtag = (await fetch(`${base}/config`, { headers: { Authorization: `Bearer ${READ}` } })).headers.get('etag');
await new Promise((r) => setTimeout(r, SECONDS * 500));
const c1 = cpu(), w1 = Date.now();
measuring = false;
stop = true;
await Promise.all(fleet);
serve.kill();
agent.destroy();
rmSync(tmp, { recursive: true, force: true });

lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.max(0, Math.ceil(p / 100 * lat.length) - 1)];
const wall = (w1 - w0) / 1000, cpuS = c1 - c0;
const followed = seen.filter((x) => x > 0);
console.log(`pollers ${N}, every ${INTERVAL} ms, measured ${wall.toFixed(1)} s: ${lat.length} polls (${(lat.length / wall).toFixed(0)}/s), ` +
            `status ${JSON.stringify(counts)}, change ${patch.status}`);
console.log(`poll latency ms: p50 ${pct(50).toFixed(3)}  p90 ${pct(90).toFixed(3)}  p99 ${pct(99).toFixed(3)}  max ${lat[lat.length - 1].toFixed(3)}`);
console.log(`serve CPU: ${cpuS.toFixed(2)} s in ${wall.toFixed(1)} s = ${(100 * cpuS / wall).toFixed(1)}% of one core, ` +
            `${(1e6 * cpuS / lat.length).toFixed(1)} us per poll`);
console.log(`the change: ${followed.length} of ${N} pollers saw it, the last after ${Math.max(...followed)} ms (interval ${INTERVAL} ms)`);
process.exit(followed.length === N ? 0 : 1);
