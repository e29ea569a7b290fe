"""Checks llmsplit's YAML reader against PyYAML (what LiteLLM reads config.yaml with).

usage: yaml_oracle.py LLMSPLIT DATA_DIR WORK_DIR [N_GENERATED] [SEED]

Every DATA_DIR/*.yaml (realistic LiteLLM configs) must be read exactly as PyYAML reads it:
same structure, same key order, same types (int, float, str, bool, None) and same values.
Then N generated and mutated documents: each one llmsplit either reads exactly as PyYAML does
or refuses; a document PyYAML refuses, or reads as something JSON cannot hold (a key that is not
text, .inf, a timestamp, an integer beyond 64 bits), must be refused. Refusing a document PyYAML
reads is allowed (the reader refuses rather than guesses) and counted. One documented mapping:
a date (2023-05-15) is its text, date.isoformat()."""
import datetime, json, math, os, random, subprocess, sys

import yaml


class NotJson(Exception):
    pass


def norm(v):
    """PyYAML's value as JSON can hold it, or NotJson."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        if not -2**63 <= v < 2**63:
            raise NotJson('integer beyond 64 bits')
        return v
    if isinstance(v, float):
        if math.isinf(v) or math.isnan(v):
            raise NotJson('inf or nan')
        return v
    if isinstance(v, datetime.datetime):
        raise NotJson('timestamp')
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise NotJson('key %r is not text' % (k,))
            out[k] = norm(x)
        return out
    raise NotJson(type(v).__name__)


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def pyyaml(data):
    """('ok', value) or ('refuse', why)."""
    try:
        v = yaml.safe_load(data.decode('utf-8'))
    except Exception as e:  # YAMLError, and ValueError/TypeError the constructors raise
        return 'refuse', 'pyyaml: ' + str(e).split('\n')[0]
    try:
        return 'ok', norm(v)
    except NotJson as e:
        return 'refuse', 'not JSON: ' + str(e)
    except RecursionError:
        return 'refuse', 'too deep'


def ours(tool, path):
    r = subprocess.run([tool, 'json', '--yaml', path], capture_output=True)
    if r.returncode == 0:
        return 'ok', json.loads(r.stdout.decode('utf-8'))
    if r.returncode != 1 or b'llmsplit: config: ' not in r.stderr:
        return 'crash', r.stderr.decode('utf-8', 'replace') + ' rc=%d' % r.returncode
    return 'refuse', r.stderr.decode('utf-8', 'replace').strip()


def compare(tool, path, data):
    w, want = pyyaml(data)
    g, got = ours(tool, path)
    if g == 'crash':
        return 'CRASH', got
    if w == 'ok' and g == 'ok':
        return ('ok', None) if same(want, got) else ('DIFF', 'pyyaml %r\n   ours %r' % (want, got))
    if w == 'refuse' and g == 'ok':
        return 'MISREAD', '%s, but we read %r' % (want, got)
    if w == 'ok':
        return 'we-refuse', got
    return 'both-refuse', None


# --- generated documents ------------------------------------------------------------------

PLAIN = [
    '0', '-0', '+1', '7', '007', '08', '0_', '0x1F', '0x_', '0xg', '0x', '0b101', '0b2', '0b_', '1_000', '80_000',
    '1__0', '_1', '1_', '-12', '+0', '1.5', '.5', '-.5', '+.5', '1.', '-1.', '1.e+5', '1.0e5', '1.0e+5',
    '1e-6', '1.5E-7', '0.00000015', '1_0.5_', '00.5', '.inf', '-.Inf', '+.INF', '.NaN', '.nan', '+.nan',
    '1:30', '1:60', '0:30', '190:20:30.15', '-1:30', '12345678901234567890', '9223372036854775807',
    '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '0x8000000000000000',
    '1.0e+999', '-1.0e+400', '1.0e-999', '2023-05-15', '2023-02-29', '2024-02-29', '2023-13-01',
    '2023-5-15', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10', '2001-12-14T21:59:43Z',
    '0000-01-01', '1900-02-29', '2000-02-29', 'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'on', 'On', 'ON',
    'oN', 'off', 'OFF', 'y', 'n', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'null', 'Null',
    'NULL', 'nULL', '~', '<<', '=', 'os.environ/OPENAI_API_KEY', 'http://a.example:80/x?y=1',
    'azure/gpt-4o', 'ollama/llama2:13b', 'a:b', 'a#b', 'a b', 'a  b', '-x', '?x', ':x', 'a,b',
    'a[b]', 'sk-1234', 'gpt-3.5-turbo', 'é', '日本', 'a\'b', 'a"b', 'a\\b', '1 2', 'x:', '-', '.',
    '...x', '---x', 'a: b', '@x', '`x', '%x', '!x', '&x', '*x', '|', '>', '[a', '{a', '- a',
]
QUOTED = [
    "''", "'it''s'", "'a\\nb'", "'  spaced  '", "'multi\n  line'", "'multi\n\n  para'", "'# not a comment'",
    '""', '"a\\nb"', '"tab\\there"', '"q\\"q"', '"back\\\\slash"', '"\\x41\\u00e9\\U0001F600"', '"\\ud83d"',
    '"\\/"', '"\\N\\_\\L\\P"', '"\\e\\0\\a\\b\\v\\f\\r"', '"\\ "',
    '"line\\\n  continued"', '"fold\n  ed"', '"trail  \n  spaces"', '"a\tb"',
    '"a\\\n\n  b"', '"  lead"', '"é"', '"\\u0000"', '"2023-05-15"', '"1e-6"', '"yes"',
]
QUOTED_BAD = ['"\\U00110000"', '"\\q"', '"\\x4"', '"unclosed', "'unclosed", '"x\n---\ny"']
BLOCK_HEADS = ['|', '|-', '|+', '>', '>-', '>+', '|2', '>1', '|-2', '|2+', '| # c', '|', '>', '|0', '|x']
BLOCK_LINES = ['text', 'more text', '', '  indented', 'x: y', '# hash', '- dash', '\tt', 'a  b  ', '']
KEYS = ['model_name', 'litellm_params', 'model', 'api_key', 'rpm', 'tpm', 'a', 'b', 'c', '"quoted key"',
        "'single'", 'k-1', 'k.2', 'with space', '1', 'yes', 'null', '~', '2023-05-15', '"1"', '[a]', '? q',
        '<<', 'a:b', 'é', 'x' * 1030, '"dup"', 'dup']


# what configs hold, all of it valid
SAFE = ['gpt-4o', 'azure/gpt-4o-eu', 'os.environ/AZURE_API_KEY', '"2024-02-15-preview"', '80_000', '100_000',
        '0.00000015', '0.5', '30', '600', 'true', 'True', 'false', 'null', '~', 'sk-1234', '"sk-1234"',
        "'single'", 'https://api.example.com/v1', '["langfuse"]', '[]', '{}', '"os.environ/X"', '1.0', '-1',
        'chat', 'usage-based-routing-v2', '"*"', '"openai/*"', 'redis', '6379', 'yes', 'off']


def scalar(r, indent, flow=False):
    c = r.random()
    if c < 0.5:
        return r.choice(SAFE)
    if c < 0.7:
        return r.choice(PLAIN)
    if c < 0.88 or flow:
        return r.choice(QUOTED if r.random() < 0.9 else QUOTED_BAD).replace('\n', '\n' + ' ' * (indent + r.choice([0, 1, 2])))
    head = r.choice(BLOCK_HEADS[:-2] if r.random() < 0.9 else BLOCK_HEADS)
    ind = ' ' * (indent + r.choice([1, 2, 2, 4]))
    lines = [r.choice(BLOCK_LINES) for _ in range(r.randint(0, 4))]
    body = ''.join('\n' + (ind + l if l else r.choice(['', ' ', ind + '  '])) for l in lines)
    return head + body


def flow(r, depth):
    if depth > 2 or r.random() < 0.4:
        return scalar(r, 0, True)
    if r.random() < 0.5:
        items = [flow(r, depth + 1) for _ in range(r.randint(0, 3))]
        return '[' + r.choice([', ', ',', ' , ', ',\n  ']).join(items) + r.choice(['', ',', ' ']) + ']'
    items = []
    for _ in range(r.randint(0, 3)):
        k = r.choice(KEYS[:12])
        items.append(k if r.random() < 0.1 else k + r.choice([': ', ':', ' : ']) + flow(r, depth + 1))
    return '{' + ', '.join(items) + '}'


def block(r, indent, depth, out):
    step = r.choice([1, 2, 2, 2, 4])
    if depth > 3 or r.random() < 0.1:
        out.append(' ' * indent + scalar(r, indent))
        return
    if r.random() < 0.45:
        for _ in range(r.randint(1, 3)):
            pre = ' ' * indent + '-' + r.choice([' ', ' ', '  '])
            c = r.random()
            if c < 0.3:
                out.append(pre + scalar(r, indent + 2))
            elif c < 0.45:
                out.append(pre + flow(r, 0))
            elif c < 0.8:
                sub = []
                block_map(r, len(pre), depth + 1, sub, step)
                sub[0] = pre + sub[0].lstrip(' ')
                out.extend(sub)
            else:
                out.append(pre.rstrip(' ') + r.choice(['', ' # c']))
                block(r, indent + step, depth + 1, out)
        return
    block_map(r, indent, depth, out, step)


def block_map(r, indent, depth, out, step):
    keys = r.sample(KEYS[:8], 4)       # mostly distinct keys: a repeated one is refused
    for i in range(r.randint(1, 4)):
        key = r.choice(KEYS) if r.random() < 0.1 else keys[i]
        pre = ' ' * indent + key + r.choice([':', ':', ' :'])
        c = r.random()
        if c < 0.45:
            out.append(pre + ' ' + scalar(r, indent) + r.choice(['', '', ' # note', '  #x', '#x']))
        elif c < 0.55:
            out.append(pre + ' ' + flow(r, 0))
        elif c < 0.62:
            out.append(pre + r.choice(['', ' ', ' # empty']))
        elif c < 0.7 and depth < 4:   # a sequence at its key's column
            out.append(pre)
            sub = []
            block(r, indent, depth + 1, sub)
            out.extend(sub)
        else:
            out.append(pre)
            block(r, indent + step, depth + 1, out)


def mutate(r, text):
    ops = ['del', 'ins', 'dupline', 'indent', 'dedent', 'swap']
    for _ in range(r.randint(1, 3)):
        if not text:
            break
        op = r.choice(ops)
        i = r.randrange(len(text))
        if op == 'del':
            text = text[:i] + text[i + 1:]
        elif op == 'ins':
            text = text[:i] + r.choice([' ', ':', '-', '#', '\t', '"', "'", '\n', '[', '{', '&', '|', ',', '\r\n', ' #', ': ']) + text[i:]
        else:
            lines = text.split('\n')
            j = r.randrange(len(lines))
            if op == 'dupline':
                lines.insert(j, lines[j])
            elif op == 'indent':
                lines[j] = ' ' + lines[j]
            elif op == 'dedent' and lines[j].startswith(' '):
                lines[j] = lines[j][1:]
            elif op == 'swap' and j + 1 < len(lines):
                lines[j], lines[j + 1] = lines[j + 1], lines[j]
            text = '\n'.join(lines)
    return text


def generate(r, seeds):
    c = r.random()
    if c < 0.3 and seeds:
        return mutate(r, r.choice(seeds))
    out = []
    block(r, r.choice([0, 0, 0, 2]), 0, out)
    text = '\n'.join(out) + r.choice(['\n', '\n', '\n', '', '\n\n', '\n# end\n', '\n...\n', '\n---\nx: 1\n'])
    if r.random() < 0.1:
        text = r.choice(['---\n', '# head\n', '--- # c\n', '\ufeff', '%YAML 1.1\n---\n']) + text
    if r.random() < 0.15:
        text = text.replace('\n', '\r\n')
    return text


def main():
    tool, data_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    counts, bad = {}, 0
    seeds = []
    variants = 0
    for name in sorted(os.listdir(data_dir)):
        if not name.endswith(('.yaml', '.yml')):
            continue
        data = open(os.path.join(data_dir, name), 'rb').read()
        seeds.append(data.decode('utf-8'))
        # the file, and the same with CRLF line ends, with a byte order mark, without its last line end
        crlf = data.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
        for how, v in (('', data), (' (CRLF)', crlf), (' (BOM)', b'\xef\xbb\xbf' + data), (' (no final newline)', data.rstrip(b'\r\n'))):
            path = os.path.join(work, 'variant.yaml')
            with open(path, 'wb') as f:
                f.write(v)
            st, why = compare(tool, path, v)
            variants += 1
            if st != 'ok':
                bad += 1
                print('FAIL %s%s: %s %s' % (name, how, st, why or ''))
    print('realistic configs: %d files and variants read exactly as PyYAML reads them, %d not' % (variants - bad, bad))
    r = random.Random(seed)
    path = os.path.join(work, 'gen.yaml')
    for i in range(n):
        text = generate(r, seeds)
        data = text.encode('utf-8')
        with open(path, 'wb') as f:
            f.write(data)
        st, why = compare(tool, path, data)
        counts[st] = counts.get(st, 0) + 1
        if st in ('DIFF', 'MISREAD', 'CRASH'):
            bad += 1
            keep = os.path.join(work, 'bad-%d.yaml' % i)
            with open(keep, 'wb') as f:
                f.write(data)
            if bad <= 20:
                print('FAIL generated #%d (%s): %s %s' % (i, keep, st, why))
    print('generated (seed %d): %s' % (seed, ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
