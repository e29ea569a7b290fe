// `llmsplit serve` driven by the official `openai` npm package: answers, streams (usage chunk,
// tool calls through the SDK's own stream helper), errors mapped to the SDK's error classes,
// `user` stickiness, the model list, feedback. Upstreams: `llmsplit mock` for text, and a canned
// server here for tool calls (OpenAI's wire, passed through, and Anthropic's, translated).
// usage: node serve_openai.mjs TOOL OPENAI_PACKAGE_DIR
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const [tool, pkgDir] = process.argv.slice(2).map((p) => resolve(p));
const require = createRequire(join(pkgDir, 'noop.js'));
const OpenAI = require('openai').default;
const { NotFoundError, RateLimitError, BadRequestError, InternalServerError, AuthenticationError } = require('openai');

let failed = 0;
function check(name, cond, detail) {
  if (cond) console.log(`ok   ${name}`);
  else { failed++; console.log(`FAIL ${name}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`); }
}

const children = [];
function start(args, env) {
  const p = spawn(tool, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  children.push(p);
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

// The canned upstream: a tool call, streamed or whole, in OpenAI's or Anthropic's wire format.
const sse = (res, events) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [name, data] of events) res.write((name ? `event: ${name}\n` : '') + `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  res.end();
};
const canned = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const rq = JSON.parse(body);
    if (req.url === '/v1/chat/completions') {
      const base = { id: 'chatcmpl-canned', object: 'chat.completion.chunk', created: 1, model: rq.model };
      if (rq.model === 'whole') { // a provider that ignores "stream" and answers whole
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop',
          message: { role: 'assistant', content: 'the whole answer' } }], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } }));
        return;
      }
      if (!rq.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, finish_reason: 'tool_calls',
          message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } }],
          usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } }));
        return;
      }
      const ch = (delta, finish = null) => [null, { ...base, choices: [{ index: 0, delta, finish_reason: finish }] }];
      const events = [
        ch({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        ch({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
        ch({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
        ch({}, 'tool_calls'),
      ];
      if (rq.stream_options && rq.stream_options.include_usage)
        events.push([null, { ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } }]);
      events.push([null, '[DONE]']);
      sse(res, events);
    } else if (req.url === '/api/chat') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ model: rq.model, message: { role: 'assistant', content: '',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false }) + '\n');
      res.end(JSON.stringify({ model: rq.model, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop',
                               prompt_eval_count: 5, eval_count: 7 }) + '\n');
    } else if (req.url === '/v1/messages') {
      sse(res, [
        ['message_start', { type: 'message_start', message: { id: 'msg_1', role: 'assistant', usage: { input_tokens: 5 } } }],
        ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }],
        ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }],
        ['content_block_stop', { type: 'content_block_stop', index: 0 }],
        ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }],
        ['message_stop', { type: 'message_stop' }],
      ]);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
});

const tmp = mkdtempSync(join(tmpdir(), 'serve-openai-'));
try {
  await new Promise((r) => canned.listen(0, '127.0.0.1', r));
  const cannedUrl = `http://127.0.0.1:${canned.address().port}`;
  const mock = await start(['mock', '--listen', '127.0.0.1:0', '--status', 'rl=429', '--status', 'down=503']);
  const up = (name, model, base, extra = {}) => ({ model_name: name, litellm_params: { model, api_base: base, api_key: 'sk-upstream', ...extra } });
  const config = {
    model_list: [
      up('chat', 'openai/gpt-a', `${mock}/v1`, { weight: 1 }),
      up('chat', 'openai/gpt-b', `${mock}/v1`, { weight: 1 }),
      up('claude', 'anthropic/claude-x', mock),
      up('limited', 'openai/rl', `${mock}/v1`),
      up('down', 'openai/down', `${mock}/v1`),
      up('tools', 'openai/tooler', `${cannedUrl}/v1`),
      up('anthropic-tools', 'anthropic/claude-tools', cannedUrl),
      up('whole', 'openai/whole', `${cannedUrl}/v1`),
      up('ollama-tools', 'ollama/tools-o', cannedUrl),
    ],
    general_settings: { master_key: 'os.environ/TEST_MASTER_KEY' },
  };
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(config));
  const log = join(tmp, 'log.jsonl');
  const gw = await start(['serve', '--config', join(tmp, 'config.json'), '--listen', '127.0.0.1:0', '--log', log],
                         { TEST_MASTER_KEY: 'sk-master-node' });
  const client = new OpenAI({ baseURL: `${gw}/v1`, apiKey: 'sk-master-node', maxRetries: 0 });
  const messages = [{ role: 'user', content: 'a b c' }];

  // a whole answer
  const { data: c1, response: r1 } = await client.chat.completions.create({ model: 'chat', messages }).withResponse();
  check('node_serve_answer_text', /^mock reply from gpt-[ab]: a b c$/.test(c1.choices[0].message.content), c1.choices[0].message.content);
  check('node_serve_answer_usage', c1.usage && c1.usage.total_tokens === 10, c1.usage);
  check('node_serve_answer_finish_reason', c1.choices[0].finish_reason === 'stop', c1.choices[0].finish_reason);
  check('node_serve_answer_headers', /^[0-9a-f]{32}$/.test(r1.headers.get('x-llmsplit-request-id') || '') &&
        /^gpt-[ab] #[01]$/.test(r1.headers.get('x-llmsplit-model') || ''), [...r1.headers]);

  // the same user, the same arm
  const arms = {};
  for (const user of ['u1', 'u2', 'u3', 'u4']) {
    arms[user] = new Set();
    for (let i = 0; i < 4; i++) {
      const { response } = await client.chat.completions.create({ model: 'chat', messages, user }).withResponse();
      arms[user].add(response.headers.get('x-llmsplit-model'));
    }
  }
  check('node_serve_user_is_sticky', Object.values(arms).every((s) => s.size === 1), Object.fromEntries(Object.entries(arms).map(([k, v]) => [k, [...v]])));

  // a stream, with the usage chunk
  let text = '', usage = null, chunks = 0;
  const stream = await client.chat.completions.create({ model: 'claude', messages, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    chunks++;
    if (chunk.choices.length && chunk.choices[0].delta.content) text += chunk.choices[0].delta.content;
    if (chunk.usage) usage = chunk.usage;
  }
  check('node_serve_stream_text', text === 'mock reply from claude-x: a b c', text);
  check('node_serve_stream_usage_chunk', usage && usage.prompt_tokens === 3 && usage.completion_tokens === 7, usage);
  check('node_serve_stream_chunks', chunks >= 5, chunks);
  let plainUsage = false;
  for await (const chunk of await client.chat.completions.create({ model: 'chat', messages, stream: true })) if (chunk.usage) plainUsage = true;
  check('node_serve_stream_no_usage_unless_asked', !plainUsage);

  // streamed tool calls, assembled by the SDK's own helper
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  for (const model of ['tools', 'anthropic-tools', 'ollama-tools']) {
    const s = client.chat.completions.stream({ model, messages, tools, stream_options: { include_usage: true } });
    const done = await s.finalChatCompletion();
    const call = done.choices[0].message.tool_calls && done.choices[0].message.tool_calls[0];
    check(`node_serve_streamed_tool_call_${model}`, call && call.function.name === 'get_weather' &&
          call.function.arguments === '{"city":"Paris"}' && done.choices[0].finish_reason === 'tool_calls', done.choices[0]);
    check(`node_serve_streamed_tool_call_usage_${model}`, done.usage && done.usage.total_tokens === 12, done.usage);
  }
  let wtext = '', wusage = null;
  for await (const chunk of await client.chat.completions.create({ model: 'whole', messages, stream: true, stream_options: { include_usage: true } })) {
    if (chunk.choices.length && chunk.choices[0].delta.content) wtext += chunk.choices[0].delta.content;
    if (chunk.usage) wusage = chunk.usage;
  }
  check('node_serve_stream_of_a_provider_that_answered_whole', wtext === 'the whole answer' && wusage && wusage.total_tokens === 5, [wtext, wusage]);
  const whole = await client.chat.completions.create({ model: 'tools', messages, tools });
  check('node_serve_tool_call_whole', whole.choices[0].message.tool_calls[0].function.arguments === '{"city":"Paris"}', whole.choices[0]);

  // errors, as the SDK's classes
  const errorOf = async (fn) => { try { await fn(); return null; } catch (e) { return e; } };
  let e = await errorOf(() => client.chat.completions.create({ model: 'no-such-group', messages }));
  check('node_serve_unknown_group_is_NotFoundError', e instanceof NotFoundError && /chat, claude/.test(e.message), e && e.message);
  e = await errorOf(() => client.chat.completions.create({ model: 'limited', messages }));
  check('node_serve_429_is_RateLimitError', e instanceof RateLimitError, e && e.message);
  e = await errorOf(() => client.chat.completions.create({ model: 'down', messages }));
  check('node_serve_503_upstream_is_InternalServerError', e instanceof InternalServerError && e.status === 503, e && e.status);
  e = await errorOf(() => client.chat.completions.create({ model: 'chat', messages, n: 2 }));
  check('node_serve_n_2_is_BadRequestError', e instanceof BadRequestError, e && e.message);
  e = await errorOf(() => new OpenAI({ baseURL: `${gw}/v1`, apiKey: 'sk-wrong', maxRetries: 0 }).chat.completions.create({ model: 'chat', messages }));
  check('node_serve_wrong_key_is_AuthenticationError', e instanceof AuthenticationError, e && e.message);
  e = await errorOf(async () => { for await (const _ of await client.chat.completions.create({ model: 'limited', messages, stream: true })) {} });
  check('node_serve_stream_429_is_RateLimitError', e instanceof RateLimitError, e && e.message);

  // the model list, and feedback into the log
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  check('node_serve_models_are_the_groups', ['chat', 'claude', 'tools'].every((g) => models.includes(g)), models);
  const id = r1.headers.get('x-llmsplit-request-id');
  const fb = await fetch(`${gw}/v1/feedback`, { method: 'POST', headers: { authorization: 'Bearer sk-master-node', 'content-type': 'application/json' },
                                                body: JSON.stringify({ request_id: id, metric: 'thumbs_up', value: true }) });
  check('node_serve_feedback_200', fb.status === 200, fb.status);
  // (records reach the log from the client's writer thread, within its 10 ms linger)
  let fbRec;
  for (let i = 0; i < 100 && !fbRec; i++) {
    // (whole lines only: the writer may be appending the last one)
    const text = readFileSync(log, 'utf8');
    const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l).map((l) => JSON.parse(l));
    fbRec = lines.find((l) => l.event === 'feedback' && l.request_id === id);
    if (!fbRec) await new Promise((r) => setTimeout(r, 20));
  }
  check('node_serve_feedback_in_the_log', fbRec && fbRec.value === 1 && fbRec.group === 'chat', fbRec);
  check('node_serve_upstream_key_not_in_the_log', !readFileSync(log, 'utf8').includes('sk-upstream'));
} catch (err) {
  failed++;
  console.log(`FAIL node_serve_runs: ${err && err.stack}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  canned.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
