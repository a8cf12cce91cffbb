/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-notice.c: the notice people answer to, and its hash. */
#include "consent-notice.h"
#include "consent-json.h"

G_DEFINE_BOXED_TYPE (ConsentNotice, consent_notice, consent_notice_ref, consent_notice_unref)

typedef struct {
  ConsentNotice pub;
  gatomicrefcount ref;
} NoticePriv;

char *
consent_notice_canonical (const ConsentNotice *notice)
{
  g_autoptr (GString) out = g_string_new ("{\"controller\":");

  /* Keys in lexicographic order, no whitespace: documented in docs/ledger.md. */
  consent_json_append_string (out, notice->controller);
  g_string_append (out, ",\"purpose\":");
  consent_json_append_string (out, notice->purpose);
  g_string_append_printf (out, ",\"retention-days\":%u,\"storage\":", notice->retention_days);
  consent_json_append_string (out, notice->storage);
  g_string_append (out, ",\"text\":");
  consent_json_append_string (out, notice->text);
  g_string_append (out, ",\"version\":");
  consent_json_append_string (out, notice->version);
  g_string_append_c (out, '}');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

ConsentNotice *
consent_notice_new (const char *version, const char *text, const char *controller,
                    const char *purpose, const char *storage, guint retention_days)
{
  NoticePriv *priv;
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (version != NULL && text != NULL && controller != NULL, NULL);
  g_return_val_if_fail (purpose != NULL && storage != NULL, NULL);
  priv = g_new0 (NoticePriv, 1);
  g_atomic_ref_count_init (&priv->ref);
  priv->pub.version = g_strdup (version);
  priv->pub.text = g_strdup (text);
  priv->pub.controller = g_strdup (controller);
  priv->pub.purpose = g_strdup (purpose);
  priv->pub.storage = g_strdup (storage);
  priv->pub.retention_days = retention_days;
  canonical = consent_notice_canonical (&priv->pub);
  priv->pub.sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, canonical, -1);
  return &priv->pub;
}

ConsentNotice *
consent_notice_ref (ConsentNotice *notice)
{
  g_return_val_if_fail (notice != NULL, NULL);
  g_atomic_ref_count_inc (&((NoticePriv *) notice)->ref);
  return notice;
}

void
consent_notice_unref (ConsentNotice *notice)
{
  NoticePriv *priv = (NoticePriv *) notice;

  if (notice == NULL || !g_atomic_ref_count_dec (&priv->ref))
    return;
  g_free (notice->version);
  g_free (notice->text);
  g_free (notice->controller);
  g_free (notice->purpose);
  g_free (notice->storage);
  g_free (notice->sha256);
  g_free (priv);
}
