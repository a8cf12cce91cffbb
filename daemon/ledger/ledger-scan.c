/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-scan.c: canonical-JSON line scanner (see ledger-scan.h). */
#include "ledger-scan.h"

#include <string.h>

typedef struct {
  const char *s, *end;
  const char *why;
  LedgerScan *out;
  const char *line;
  int max_depth;
} Scanner;

static const char *
fail (Scanner *sc, const char *why)
{
  if (!sc->why)
    sc->why = why;
  return NULL;
}

/* Skips one UTF-8 sequence starting at a byte >= 0x80; NULL if invalid. */
static const char *
utf8_char (const char *p, const char *end)
{
  guchar c = (guchar) p[0];
  int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
  if (n < 0 || c > 0xf4 || end - p <= n)
    return NULL;
  gunichar u = c & (0x3f >> n);
  for (int i = 1; i <= n; i++) {
    if (((guchar) p[i] & 0xc0) != 0x80)
      return NULL;
    u = (u << 6) | ((guchar) p[i] & 0x3f);
  }
  if ((n == 2 && u < 0x800) || (n == 3 && (u < 0x10000 || u > 0x10ffff)) ||
      (u >= 0xd800 && u <= 0xdfff))
    return NULL;
  return p + n + 1;
}

/* Bytes that end the fast path inside a string: quote, backslash, control
 * characters and the start of multi-byte UTF-8. */
static gboolean special[256];

static void
init_special (void)
{
  for (int c = 0; c < 256; c++)
    special[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* A string at p ('"'); returns the byte after its closing quote. Only the
 * canonical escapes are accepted: \" \\ and \u00xx for bytes below 0x20. */
static const char *
scan_string (Scanner *sc, const char *p)
{
  const char *end = sc->end;
  p++;
  while (p < end) {
    while (p < end && !special[(guchar) *p])
      p++;
    if (p >= end)
      break;
    guchar c = (guchar) *p;
    if (c == '"')
      return p + 1;
    if (c < 0x20)
      return fail (sc, "control character in a string");
    if (c == '\\') {
      if (p + 1 >= end)
        break;
      if (p[1] == '"' || p[1] == '\\') {
        p += 2;
        continue;
      }
      if (p[1] == 'u' && end - p >= 6 && p[2] == '0' && p[3] == '0' && (p[4] == '0' ||
          p[4] == '1') && g_ascii_isxdigit (p[5]) && !g_ascii_isupper (p[5])) {
        p += 6;
        continue;
      }
      return fail (sc, "a string escape that is not canonical");
    }
    if (c >= 0x80) {
      if (!(p = utf8_char (p, end)))
        return fail (sc, "invalid UTF-8");
      continue;
    }
    p++;
  }
  return fail (sc, "unterminated string");
}

static const char *
scan_number (Scanner *sc, const char *p)
{
  const char *end = sc->end;
  if (p < end && *p == '-')
    p++;
  if (p >= end || !g_ascii_isdigit (*p))
    return fail (sc, "bad number");
  if (*p == '0' && p + 1 < end && g_ascii_isdigit (p[1]))
    return fail (sc, "number with a leading zero");
  while (p < end && g_ascii_isdigit (*p))
    p++;
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !g_ascii_isdigit (*p))
      return fail (sc, "bad number");
    while (p < end && g_ascii_isdigit (*p))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p >= end || !g_ascii_isdigit (*p))
      return fail (sc, "bad number");
    while (p < end && g_ascii_isdigit (*p))
      p++;
  }
  return p;
}

static const char *scan_value (Scanner *sc, const char *p, int level);

/* Records the spans of the top-level members the chain needs. */
static void
note_member (Scanner *sc, const char *key, gsize klen, const char *member, const char *v,
             const char *vend)
{
  LedgerScan *o = sc->out;
  gboolean str = *v == '"';
  LedgerSpan span = {str ? v + 1 : v, (gsize) (vend - v) - (str ? 2 : 0)};
#define IS(name) (klen == sizeof (name) - 1 && memcmp (key, name, klen) == 0)
  if (IS ("v"))
    o->v = span;
  else if (IS ("seq"))
    o->seq = span;
  else if (IS ("ts"))
    o->ts = span;
  else if (IS ("type") && str)
    o->type = span;
  else if (IS ("key-epoch"))
    o->key_epoch = span;
  else if (IS ("prev") && str)
    o->prev = span;
  else if (IS ("hash") && str) {
    o->hash = span;
    o->hash_member = (gsize) (member - sc->line);
    o->hash_member_len = (gsize) (vend - member) + 1;
  } else if (IS ("mac") && str) {
    o->mac = span;
    o->mac_member = (gsize) (member - sc->line);
    o->mac_member_len = (gsize) (vend - member) + 1;
  }
#undef IS
}

static int
compare_keys (const char *a, gsize alen, const char *b, gsize blen)
{
  int c = memcmp (a, b, MIN (alen, blen));
  return c ? c : (alen > blen) - (alen < blen);
}

static const char *
scan_object (Scanner *sc, const char *p, int depth)
{
  const char *end = sc->end, *prev_key = NULL;
  gsize prev_len = 0;
  p++;
  if (p < end && *p == '}')
    return p + 1;
  while (p < end) {
    const char *member = p;
    if (*p != '"')
      return fail (sc, "expected a member name");
    const char *kend = scan_string (sc, p);
    if (!kend)
      return NULL;
    const char *key = p + 1;
    gsize klen = (gsize) (kend - p) - 2;
    if (prev_key && compare_keys (prev_key, prev_len, key, klen) >= 0)
      return fail (sc, "members are not sorted, or a name repeats");
    prev_key = key;
    prev_len = klen;
    if (kend >= end || *kend != ':')
      return fail (sc, "expected ':'");
    const char *v = kend + 1;
    const char *vend = scan_value (sc, v, depth);
    if (!vend)
      return NULL;
    if (depth == 1)
      note_member (sc, key, klen, member, v, vend);
    if (vend < end && *vend == ',') {
      p = vend + 1;
      continue;
    }
    if (vend < end && *vend == '}')
      return vend + 1;
    return fail (sc, "expected ',' or '}'");
  }
  return fail (sc, "unterminated object");
}

static const char *
scan_array (Scanner *sc, const char *p, int depth)
{
  const char *end = sc->end;
  p++;
  if (p < end && *p == ']')
    return p + 1;
  while (p < end) {
    const char *vend = scan_value (sc, p, depth);
    if (!vend)
      return NULL;
    if (vend < end && *vend == ',') {
      p = vend + 1;
      continue;
    }
    if (vend < end && *vend == ']')
      return vend + 1;
    return fail (sc, "expected ',' or ']'");
  }
  return fail (sc, "unterminated array");
}

static const char *
scan_literal (Scanner *sc, const char *p, const char *word)
{
  gsize n = strlen (word);
  if ((gsize) (sc->end - p) < n || memcmp (p, word, n) != 0)
    return fail (sc, "unexpected character");
  return p + n;
}

/* A value inside a container at nesting @level (the top object is level 1). */
static const char *
scan_value (Scanner *sc, const char *p, int level)
{
  if (p >= sc->end)
    return fail (sc, "value expected");
  if ((*p == '{' || *p == '[') && level + 1 > sc->max_depth)
    return fail (sc, "nested too deeply");
  switch (*p) {
  case '"':
    return scan_string (sc, p);
  case '{':
    return scan_object (sc, p, level + 1);
  case '[':
    return scan_array (sc, p, level + 1);
  case 't':
    return scan_literal (sc, p, "true");
  case 'f':
    return scan_literal (sc, p, "false");
  case 'n':
    return scan_literal (sc, p, "null");
  default:
    return scan_number (sc, p);
  }
}

gboolean
ledger_scan_line (const char *line, gsize len, int max_depth, LedgerScan *out, const char **why)
{
  static gsize initialized;
  if (g_once_init_enter (&initialized)) {
    init_special ();
    g_once_init_leave (&initialized, 1);
  }
  Scanner sc = {.s = line, .end = line + len, .out = out, .line = line,
                .max_depth = max_depth};
  memset (out, 0, sizeof *out);
  if (len == 0 || line[0] != '{') {
    *why = "not a JSON object";
    return FALSE;
  }
  const char *end = scan_object (&sc, line, 1);
  if (end && end != sc.end)
    sc.why = "bytes after the object";
  if (!end || sc.why) {
    *why = sc.why ? sc.why : "malformed JSON";
    return FALSE;
  }
  return TRUE;
}
