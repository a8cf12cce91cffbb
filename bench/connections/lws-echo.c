/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lws-echo: the smallest useful libwebsockets server, as the ceiling
 * consentd is compared with (connections held, message round trip). It
 * speaks the same subprotocol name on the same path and echoes every text
 * message back; nothing is parsed, nothing is stored.
 *
 *   lws-echo PORT      (loopback only; prints "listening on PORT")
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_MAX_MESSAGE 4096

typedef struct {
  unsigned char buf[LWS_PRE + ECHO_MAX_MESSAGE];
  size_t len;
  int pending;
} EchoSession;

static volatile sig_atomic_t echo_stop;

static int
echo_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
               size_t len)
{
  EchoSession *s = user;

  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED:
    s->len = 0;
    s->pending = 0;
    break;
  case LWS_CALLBACK_RECEIVE:
    /* One message in flight per session is all the load generator uses. */
    if (s->len + len > ECHO_MAX_MESSAGE)
      return -1;
    memcpy (s->buf + LWS_PRE + s->len, in, len);
    s->len += len;
    if (lws_is_final_fragment (wsi)) {
      s->pending = 1;
      lws_callback_on_writable (wsi);
    }
    break;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (!s->pending)
      break;
    if (lws_write (wsi, s->buf + LWS_PRE, s->len, LWS_WRITE_TEXT) < (int)s->len)
      return -1;
    s->pending = 0;
    s->len = 0;
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols echo_protocols[] = {
    {"consent.v1", echo_callback, sizeof (EchoSession), ECHO_MAX_MESSAGE, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void
on_signal (int sig)
{
  (void)sig;
  echo_stop = 1;
}

int
main (int argc, char **argv)
{
  struct lws_context_creation_info info;
  struct lws_context *context;
  int port = argc > 1 ? atoi (argv[1]) : 0;

  if (port <= 0 || port > 65535) {
    fprintf (stderr, "usage: lws-echo PORT\n");
    return 2;
  }
  signal (SIGTERM, on_signal);
  signal (SIGINT, on_signal);
  lws_set_log_level (LLL_ERR, NULL);
  memset (&info, 0, sizeof info);
  info.port = port;
  info.iface = "127.0.0.1";
  info.protocols = echo_protocols;
  info.fd_limit_per_thread = 0; /* the process's RLIMIT_NOFILE */
  context = lws_create_context (&info);
  if (context == NULL) {
    fprintf (stderr, "lws-echo: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  printf ("listening on %d\n", port);
  fflush (stdout);
  while (!echo_stop && lws_service (context, 0) >= 0)
    ;
  lws_context_destroy (context);
  return 0;
}
