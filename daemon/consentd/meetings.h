/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meetings.h: the registry of ConsentMeeting objects, bridged to the ledger
 * and to the websocket sessions watching each meeting. */
#pragma once

#include "daemon.h"

G_BEGIN_DECLS

/**
 * consentd_registry_new:
 * @recorder: where meetings' events go (the ledger recorder; a memory
 * recorder in tests). Borrowed reference is taken.
 */
ConsentdRegistry *consentd_registry_new (ConsentdDaemon *daemon,
                                         ConsentRecorder *recorder);
void consentd_registry_free (ConsentdRegistry *reg);

/** consentd_registry_lookup: the meeting, or NULL (transfer none). */
ConsentMeeting *consentd_registry_lookup (ConsentdRegistry *reg, const char *id);

/**
 * consentd_registry_ensure:
 * The meeting @id, created (with the site policy) when absent. @created says
 * which. Fails with CONSENT_ERROR_TOO_LARGE past max-meetings.
 */
ConsentMeeting *consentd_registry_ensure (ConsentdRegistry *reg, const char *id,
                                          gboolean *created, GError **error);

/** consentd_registry_end: ends the meeting, tells its sessions, forgets it. */
gboolean consentd_registry_end (ConsentdRegistry *reg, const char *id, const char *actor);
guint consentd_registry_count (ConsentdRegistry *reg);

/**
 * consentd_registry_list: the meetings in progress, ordered by id (at most
 * max-meetings). Free with g_ptr_array_unref; the meetings are borrowed.
 */
GPtrArray *consentd_registry_list (ConsentdRegistry *reg);

/** Sessions that follow a meeting (after their hello). */
void consentd_registry_attach (ConsentdRegistry *reg, const char *meeting,
                               ConsentdSession *s);
void consentd_registry_detach (ConsentdRegistry *reg, const char *meeting,
                               ConsentdSession *s);

/**
 * consentd_registry_recover:
 * Rebuilds the meetings in progress (roster, notice, request, answers with
 * their record ids) by replaying @ledger's records; nothing new is written.
 * Decisions come out of the replay as libconsent decides them; no recorder
 * is connected yet, so a gate reopens only when a recorder connects anew.
 */
gboolean consentd_registry_recover (ConsentdRegistry *reg, ConsentLedger *ledger,
                                    guint *n_meetings, GError **error);

/**
 * consentd_registry_request_again:
 * After an unclean stop (see main.c), every recovered meeting with an active
 * recording request gets a fresh one from "system": everyone present is
 * asked again, so no gate opens on answers given before the stop.
 * Returns: how many meetings were asked again.
 */
guint consentd_registry_request_again (ConsentdRegistry *reg);

/** consentd_registry_fail_all: the ledger failed; every gate closes for good. */
void consentd_registry_fail_all (ConsentdRegistry *reg);

G_END_DECLS

G_BEGIN_DECLS
/** consentd_registry_tick: expire unanswered requests (policy answer-timeout). */
void consentd_registry_tick (ConsentdRegistry *reg);
G_END_DECLS
