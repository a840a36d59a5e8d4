/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Metrics over HTTP (daemon.metrics_listen): GET /metrics in the Prometheus text format, on
 * the event loop. Nothing else: 404 for other paths, 405 for other methods, requests over
 * UL_HTTP_MAX_REQ bytes refused (431), at most UL_HTTP_MAX_CLIENTS at once, each closed after
 * UL_HTTP_TIMEOUT_MS. One request per connection (Connection: close). */
#ifndef UL_HTTP_H
#define UL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "loop.h"

#define UL_HTTP_MAX_REQ 4096
#define UL_HTTP_MAX_CLIENTS 16
#define UL_HTTP_TIMEOUT_MS 5000

/* Fill body with the exposition; 0 or -errno (answered 500). */
typedef int (*ul_http_metrics_fn)(void *data, struct ul_buf *body);

struct ul_http;

/* Listen on addr:port (TCP, IPv6 only for an IPv6 address). 0 or -errno. */
int ul_http_open(struct ul_loop *loop, const struct ul_addr *addr, uint16_t port,
		 ul_http_metrics_fn fn, void *data, struct ul_http **out);
void ul_http_close(struct ul_http *h);

/*
 * Pure: the request received so far (len bytes). Returns 0 when the head is not complete yet,
 * else the status to answer: 200 (GET or HEAD of /metrics, *head set for HEAD), 400, 404,
 * 405, 431 (head longer than UL_HTTP_MAX_REQ), 505 (not HTTP/1.x).
 */
int ul_http_parse(const char *buf, size_t len, bool *head);

#endif
