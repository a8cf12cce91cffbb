/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-recorder.h: the #ConsentRecorder that makes a meeting's events
 * durable in a #ConsentLedger. Needs libconsent.
 */
#pragma once

#include "ledger.h"
#include "consent-recorder.h"

G_BEGIN_DECLS

/**
 * ConsentLedgerRecorder:
 * submit() maps the event to a #ConsentLedgerEntry (participant → subject via
 * the key store, personal data encrypted), appends it, and once durable calls
 * consent_meeting_record_done() with the record id on the main context that
 * was thread-default when submit() ran (the meeting's). On failure the
 * meeting gets the error (it fails closed) as a %CONSENT_ERROR_LEDGER.
 *
 * Signals (on that same main context, after consent_meeting_record_done()):
 *  - "recorded" (ConsentMeeting *meeting, ConsentEvent *event,
 *    const char *record_id, const char *hash, const char *subject):
 *    what consentd needs for the `recorded` receipt (id + hash).
 *  - "failed" (ConsentMeeting *meeting, ConsentEvent *event, GError *error)
 */
#define CONSENT_TYPE_LEDGER_RECORDER (consent_ledger_recorder_get_type ())
G_DECLARE_FINAL_TYPE (ConsentLedgerRecorder, consent_ledger_recorder, CONSENT,
                      LEDGER_RECORDER, GObject)

ConsentLedgerRecorder *consent_ledger_recorder_new (ConsentLedger *ledger);
ConsentLedger *consent_ledger_recorder_get_ledger (ConsentLedgerRecorder *self);

/**
 * consent_ledger_entry_from_event:
 * Fills @entry with pointers into @event (no copies; valid while @event is).
 */
void consent_ledger_entry_from_event (const ConsentEvent *event, ConsentLedgerEntry *entry);

G_END_DECLS
