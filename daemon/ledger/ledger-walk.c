/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-walk.c: one well-formedness check of the chain, shared by all readers. */
#include "ledger-walk.h"
#include "ledger-fs.h"

#include <string.h>

struct _LedgerWalker {
  char *dir;
  GPtrArray *names;
  guint idx;            /* index of the segment being read */
  GMappedFile *map;     /* its bytes */
  const char *data;
  gsize len, pos;
  guint line_no;
  guint64 seg_epoch;
  LedgerLineChecker *checker;
  LedgerLine line;

  gboolean have_prev;
  guint64 next_seq;
  char prev[LEDGER_HASH_HEX + 1];
  guint64 last_epoch;
  gboolean any_epoch;
  char *last_segment;

  /* where the log starts, and whether a prune record explains a start > 0 */
  guint64 first_seq;
  char first_prev[LEDGER_HASH_HEX + 1];
  gboolean start_justified;

  gboolean torn;
  gsize torn_offset;
  gsize torn_len;
  char *torn_bytes;
  char *torn_segment;

  char *fail_file, *fail_reason;
  guint fail_line;
  gboolean fail_has_seq;
  guint64 fail_seq;
};

char *
ledger_segment_name (guint64 first_seq)
{
  return g_strdup_printf (LEDGER_SEGMENT_PREFIX "%020" G_GUINT64_FORMAT LEDGER_SEGMENT_SUFFIX,
                          first_seq);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
is_segment_name (const char *name)
{
  gsize plen = strlen (LEDGER_SEGMENT_PREFIX), slen = strlen (LEDGER_SEGMENT_SUFFIX);
  if (strlen (name) != plen + 20 + slen || !g_str_has_prefix (name, LEDGER_SEGMENT_PREFIX) ||
      !g_str_has_suffix (name, LEDGER_SEGMENT_SUFFIX))
    return FALSE;
  for (gsize i = plen; i < plen + 20; i++)
    if (!g_ascii_isdigit (name[i]))
      return FALSE;
  return TRUE;
}

GPtrArray *
ledger_segments_list (const char *dir, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (!d) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO,
                 "cannot read the ledger directory: %s", local->message);
    return NULL;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (is_segment_name (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

LedgerWalker *
ledger_walker_new (const char *dir, gboolean want_json, GError **error)
{
  GPtrArray *names = ledger_segments_list (dir, error);
  if (!names)
    return NULL;
  LedgerWalker *w = g_new0 (LedgerWalker, 1);
  w->dir = g_strdup (dir);
  w->names = names;
  w->checker = ledger_line_checker_new (want_json);
  return w;
}

void
ledger_walker_free (LedgerWalker *w)
{
  if (!w)
    return;
  g_free (w->dir);
  g_ptr_array_unref (w->names);
  g_clear_pointer (&w->map, g_mapped_file_unref);
  ledger_line_checker_free (w->checker);
  g_free (w->last_segment);
  g_free (w->torn_bytes);
  g_free (w->torn_segment);
  g_free (w->fail_file);
  g_free (w->fail_reason);
  g_free (w);
}

static gboolean
fail (LedgerWalker *w, GError **error, const char *file, guint line, gboolean has_seq,
      guint64 seq, const char *why)
{
  g_free (w->fail_file);
  g_free (w->fail_reason);
  w->fail_file = g_strdup (file);
  w->fail_line = line;
  w->fail_has_seq = has_seq;
  w->fail_seq = seq;
  w->fail_reason = g_strdup (why);
  g_autoptr (GString) msg = g_string_new (file ? file : "ledger");
  if (line > 0)
    g_string_append_printf (msg, " line %u", line);
  if (has_seq)
    g_string_append_printf (msg, " (seq %" G_GUINT64_FORMAT ")", seq);
  g_string_append_printf (msg, ": %s", why);
  g_set_error_literal (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CORRUPT, msg->str);
  return FALSE;
}

static gboolean
load_segment (LedgerWalker *w, GError **error)
{
  const char *name = w->names->pdata[w->idx];
  g_autofree char *path = g_build_filename (w->dir, name, NULL);
  g_autoptr (GError) local = NULL;
  g_clear_pointer (&w->map, g_mapped_file_unref);
  w->data = NULL;
  w->len = w->pos = 0;
  w->line_no = 0;
  /* mapped, not copied: verification reads every byte exactly once */
  w->map = g_mapped_file_new (path, FALSE, &local);
  if (!w->map) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO,
                 "cannot read ledger segment: %s", local->message);
    return FALSE;
  }
  w->len = g_mapped_file_get_length (w->map);
  w->data = w->len ? g_mapped_file_get_contents (w->map) : "";
  return TRUE;
}

/* Accepts a prune record that accounts for the records before the first one. */
static void
note_prune (LedgerWalker *w, json_object *rec)
{
  json_object *details = NULL, *segments = NULL;
  if (w->first_seq == 0 || !json_object_object_get_ex (rec, "details", &details) ||
      !json_object_object_get_ex (details, "segments", &segments) ||
      !json_object_is_type (segments, json_type_array))
    return;
  for (gsize i = 0; i < json_object_array_length (segments); i++) {
    json_object *s = json_object_array_get_idx (segments, i);
    guint64 last = 0;
    const char *last_hash = ledger_json_str (s, "last-hash");
    if (ledger_json_u64 (s, "last", &last) && last + 1 == w->first_seq && last_hash &&
        g_str_equal (last_hash, w->first_prev))
      w->start_justified = TRUE;
  }
}

static gboolean
check_chain (LedgerWalker *w, const char *seg, gboolean first_in_segment, GError **error)
{
  const LedgerLine *l = &w->line;
  char why[256];
  if (!w->have_prev) {
    w->first_seq = l->seq;
    memcpy (w->first_prev, l->prev, sizeof w->first_prev);
    w->start_justified = l->seq == 0 && g_str_equal (l->prev, LEDGER_ZERO_HASH);
    if (l->seq == 0 && !w->start_justified)
      return fail (w, error, seg, w->line_no, TRUE, l->seq,
                   "the first record's prev must be 64 zeros");
  } else if (l->seq != w->next_seq) {
    g_snprintf (why, sizeof why, "seq %" G_GUINT64_FORMAT " follows seq %" G_GUINT64_FORMAT
                " (records missing, duplicated or reordered)", l->seq, w->next_seq - 1);
    return fail (w, error, seg, w->line_no, TRUE, l->seq, why);
  } else if (strcmp (l->prev, w->prev) != 0) {
    return fail (w, error, seg, w->line_no, TRUE, l->seq,
                 "prev does not match the previous record's hash (chain broken)");
  }
  if (first_in_segment) {
    if (!g_str_equal (l->type, LEDGER_TYPE_EPOCH))
      return fail (w, error, seg, w->line_no, TRUE, l->seq,
                   "a segment must begin with an epoch record");
    if (w->any_epoch && l->key_epoch <= w->last_epoch)
      return fail (w, error, seg, w->line_no, TRUE, l->seq,
                   "key epoch does not increase from the previous segment");
    w->seg_epoch = l->key_epoch;
  } else if (l->key_epoch != w->seg_epoch) {
    return fail (w, error, seg, w->line_no, TRUE, l->seq,
                 "key epoch differs from its segment's epoch record");
  } else if (g_str_equal (l->type, LEDGER_TYPE_EPOCH)) {
    return fail (w, error, seg, w->line_no, TRUE, l->seq,
                 "an epoch record in the middle of a segment");
  }
  g_autofree char *expected_name = ledger_segment_name (l->seq);
  if (first_in_segment && !g_str_equal (expected_name, seg))
    return fail (w, error, seg, w->line_no, TRUE, l->seq,
                 "segment file name does not match its first record's seq");
  if (g_str_equal (l->type, LEDGER_TYPE_PRUNE))
    note_prune (w, l->json);
  w->have_prev = TRUE;
  w->next_seq = l->seq + 1;
  memcpy (w->prev, l->hash, sizeof w->prev);
  w->last_epoch = l->key_epoch;
  w->any_epoch = TRUE;
  return TRUE;
}

static gboolean
finish (LedgerWalker *w, GError **error)
{
  if (w->have_prev && !w->start_justified)
    return fail (w, error, w->names->len ? w->names->pdata[0] : NULL, 1, TRUE, w->first_seq,
                 "the log does not start at seq 0 and no prune record accounts for the "
                 "missing records (deleted segments?)");
  return TRUE;
}

/* Takes the next line of the current segment; FALSE when the segment is done. */
static gboolean
next_line (LedgerWalker *w, const char **line, gsize *len)
{
  if (w->pos >= w->len)
    return FALSE;
  const char *start = w->data + w->pos;
  const char *nl = memchr (start, '\n', w->len - w->pos);
  if (!nl) {
    /* torn tail: bytes without a newline; left for the caller to judge */
    w->torn = TRUE;
    w->torn_offset = w->pos;
    w->torn_len = w->len - w->pos;
    g_free (w->torn_bytes);
    w->torn_bytes = g_memdup2 (start, w->torn_len);
    w->pos = w->len;
    return FALSE;
  }
  *line = start;
  *len = (gsize) (nl - start);
  w->pos += *len + 1;
  w->line_no++;
  return TRUE;
}

gboolean
ledger_walker_next (LedgerWalker *w, LedgerStep *step, gboolean *done, GError **error)
{
  const char *line;
  gsize len;
  *done = FALSE;
  for (;;) {
    if (w->data == NULL) {
      if (w->idx >= w->names->len) {
        *done = TRUE;
        return finish (w, error);
      }
      if (!load_segment (w, error))
        return FALSE;
    }
    const char *seg = w->names->pdata[w->idx];
    gboolean last_segment = w->idx + 1 == w->names->len;
    if (next_line (w, &line, &len)) {
      g_autoptr (GError) local = NULL;
      gboolean first = w->line_no == 1;
      if (!ledger_line_check (w->checker, line, len, &w->line, &local))
        return fail (w, error, seg, w->line_no, w->have_prev, w->next_seq, local->message);
      if (!check_chain (w, seg, first, error))
        return FALSE;
      g_free (w->last_segment);
      w->last_segment = g_strdup (seg);
      step->line = &w->line;
      step->segment = w->last_segment;
      step->line_no = w->line_no;
      step->first_in_segment = first;
      return TRUE;
    }
    if (w->torn && !last_segment)
      return fail (w, error, seg, w->line_no + 1, TRUE, w->next_seq,
                   "incomplete line (no newline) in a segment that is not the last");
    if (w->line_no == 0 && !last_segment && !w->torn)
      return fail (w, error, seg, 0, FALSE, 0, "empty segment in the middle of the log");
    if (w->torn)
      w->torn_segment = g_strdup (seg);
    g_clear_pointer (&w->map, g_mapped_file_unref);
    w->data = NULL;
    w->idx++;
  }
}

gboolean
ledger_walker_get_torn (LedgerWalker *w, const char **segment, gsize *offset, const char **bytes,
                        gsize *len)
{
  if (!w->torn)
    return FALSE;
  *segment = w->torn_segment;
  *offset = w->torn_offset;
  *bytes = w->torn_bytes;
  *len = w->torn_len;
  return TRUE;
}

gboolean
ledger_walker_get_last (LedgerWalker *w, guint64 *seq, const char **hash, guint64 *key_epoch)
{
  if (!w->have_prev)
    return FALSE;
  *seq = w->next_seq - 1;
  *hash = w->prev;
  *key_epoch = w->last_epoch;
  return TRUE;
}

guint
ledger_walker_get_n_segments (LedgerWalker *w)
{
  return w->names->len;
}

const char *
ledger_walker_get_last_segment (LedgerWalker *w)
{
  return w->names->len ? w->names->pdata[w->names->len - 1] : NULL;
}

guint64
ledger_walker_get_first_seq (LedgerWalker *w)
{
  return w->first_seq;
}

void
ledger_walker_get_failure (LedgerWalker *w, const char **file, guint *line, gboolean *has_seq,
                           guint64 *seq, const char **reason)
{
  *file = w->fail_file;
  *line = w->fail_line;
  *has_seq = w->fail_has_seq;
  *seq = w->fail_seq;
  *reason = w->fail_reason;
}
