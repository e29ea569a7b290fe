# Opens N streaming chat requests through `llmsplit serve` (group "drip") and holds them open,
# then times 20 short requests (group "fast") while they stream; prints the gateway's RSS and
# threads before, during and after. Run by bench/serve_streams.sh.
# usage: serve_streams.py GATEWAY_URL N GATEWAY_PID
import socket, sys, time, resource, json, selectors
gw, n, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
host, port = gw.split("//")[1].split(":")
body = json.dumps({"model": "drip", "messages": [{"role": "user", "content": "one two three four five six seven eight"}], "stream": True}).encode()
req = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
def status():
    d = {}
    for line in open("/proc/%s/status" % pid):
        k, v = line.split(":", 1)
        d[k] = v.strip()
    return d["VmRSS"], d["Threads"]
print("before: rss %s threads %s" % status())
socks = []
for i in range(n):
    s = socket.create_connection((host, int(port)))
    s.sendall(req)
    socks.append(s)
# every stream must have started (its first chunk arrived)
started = 0
for s in socks:
    s.settimeout(30)
    data = b""
    while b"data: " not in data:
        data += s.recv(65536)
    started += 1
print("streams open:", started)
time.sleep(1)
print("with %d streams: rss %s threads %s" % ((n,) + status()))
t = []
for i in range(20):
    a = time.time()
    c = socket.create_connection((host, int(port)))
    sb = b'{"model":"fast","messages":[{"role":"user","content":"x"}]}'
    c.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(sb), sb))
    r = c.recv(65536)
    t.append((time.time() - a) * 1000)
    c.close()
t.sort()
print("short request while they stream: median %.2f ms, max %.2f ms, first line %r" % (t[10], t[-1], r.split(b"\r\n")[0]))
for s in socks: s.close()
time.sleep(1)
print("after: rss %s threads %s" % status())
