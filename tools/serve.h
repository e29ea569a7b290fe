/* serve.h - what `llmsplit serve` (tools/serve.c) offers the modules it routes requests to: the
   control plane and page (tools/ui.c: /config..., /stats..., /ui...).

   A module sees one request at a time through serve_request and answers by filling
   serve_response, which serve then sends (status line, Content-Type, Content-Length, the
   x-llmsplit-request-id of the exchange, the module's extra headers, the body). A module that
   streams (Server-Sent Events, such as /stats/stream) calls serve_stream_begin and
   serve_stream_write instead and leaves the response alone; serve ends the stream when the
   handler returns. Handlers run as coroutines on serve's event loop threads, any number at once:
   whatever a module shares between requests it guards itself, and a handler never blocks its
   thread (no sleep, no waiting on a lock held for long): it waits with serve_sleep, and
   serve_stream_write waits for a slow reader without holding the thread.

   Everything here uses only the public API of llmsplit.h. */
#ifndef LLMSPLIT_SERVE_H
#define LLMSPLIT_SERVE_H

#include "tool.h"

typedef struct serve_server serve_server;

/* One HTTP request, complete (head and body read, chunked bodies decoded). Every pointer stays
   valid until the handler returns, and no longer. */
typedef struct serve_request {
    const char *method;           /* "GET", "POST", ... */
    const char *path;             /* the target up to '?', as sent (not percent-decoded) */
    const char *query;            /* after '?', "" when none */
    const char *body;             /* body_len bytes, followed by a NUL */
    size_t body_len;
    /* The value of the first header named name (case-insensitive), NUL-terminated, leading and
       trailing blanks removed; NULL when the request has none. */
    const char *(*header)(const struct serve_request *req, const char *name);
    /* 1 when the request carries the master key (Authorization: Bearer KEY), or no master key
       is set; 0 otherwise. serve checks it itself for its own routes; a module decides for
       its routes (a read-only key, say) and answers 401 when it wants the key. */
    int authorized;
    serve_server *server;
    void *priv;                   /* the connection: pass the request back to serve_stream_* */
} serve_request;

/* What a handler answers. serve has initialised both buffers (llmsplit_buf_init, malloc) and
   frees them; status 0 means 200, content_type NULL means "application/json". */
typedef struct serve_response {
    int status;
    const char *content_type;
    llmsplit_buf headers;         /* extra header lines, each "Name: value\r\n" */
    llmsplit_buf body;
} serve_response;

/* The control plane's entry point, implemented in tools/ui.c: called for every request whose
   path is /config, /stats or /ui, or starts with "/config/", "/stats/" or "/ui/". Returns 0
   when it filled resp, 1 when it streamed (serve_stream_begin was called). serve calls it when
   LLMSPLIT_SERVE_UI is defined (tools/llmsplit.c defines it and includes ui.c next to serve.c);
   without it those paths answer 404. While it runs, a client that hangs up sets the request's
   abort flag, so serve_stream_write returns -1 at once. */
int ui_handle(const serve_request *req, serve_response *resp);

/* The control plane's other hooks (tools/ui.c), called when it is built in (LLMSPLIT_SERVE_UI):
   ui_start once the client exists (it reads the config file: version 1; log_path, or NULL, is
   where the verdict is read from), ui_record from the client's on_record, ui_reload_file on
   SIGHUP, ui_stop once no request is left. */
llmsplit_status ui_start(serve_server *srv, const char *log_path, llmsplit_error *err);
void ui_record(const llmsplit_record *r, const char *line, size_t len);
void ui_reload_file(void);
void ui_stop(void);

/* The client serving the requests: its config (llmsplit_client_config_acquire), stats,
   feedback, reload. */
llmsplit_client *serve_client(const serve_server *srv);

/* The path of the config file given to --config. */
const char *serve_config_path(const serve_server *srv);

/* Appends the metrics in Prometheus text format (what GET /metrics answers) to out. */
void serve_metrics_text(serve_server *srv, llmsplit_buf *out);

/* 1 once the server is draining (SIGTERM): a long stream should end soon. */
int serve_stopping(const serve_server *srv);

/* Sends the head of a streamed answer: status, content_type, extra_headers ("Name: value\r\n"
   lines, or NULL), then the body goes out chunked as serve_stream_write hands it over. Returns
   0, or -1 when the client has gone (the handler should return). */
int serve_stream_begin(const serve_request *req, int status, const char *content_type, const char *extra_headers);

/* Sends len bytes of a streamed body at once (no buffering). Returns 0, or -1 when the client has
   gone or the server is stopping: the handler should return then. */
int serve_stream_write(const serve_request *req, const char *data, size_t len);
/* Waits ms milliseconds without holding the thread (the loop serves other requests meanwhile).
   Returns 0, or -1 at once when the client has gone or the server is stopping. */
int serve_sleep(const serve_request *req, int ms);

#endif /* LLMSPLIT_SERVE_H */
