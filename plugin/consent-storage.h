/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include "consent.h"

G_BEGIN_DECLS

/**
 * consent_storage_check_downstream:
 * Promise 7: the gate opens only into local storage. Walks every path
 * downstream of @srcpad (through queues, parsers, muxers, tees, bins, ghost
 * pads) and returns TRUE only when each ends in a consentsink. Otherwise FALSE
 * and, if @offender is not NULL, a ref to the first element that is not
 * (NULL when the pad is unlinked). Fails closed.
 */
gboolean consent_storage_check_downstream (GstPad *srcpad, GstElement **offender);

/*
 * The storage guard of consentsink. Every refusal is a G_IO_ERROR whose
 * message names the rule that refused (see docs in consent-storage.c).
 */

/**
 * consent_storage_network_fs_name:
 * The seam of the filesystem rule: returns a short name ("nfs", "cifs",
 * "fuse", …) when @f_type (statfs f_type) is a network, cluster or FUSE
 * filesystem, NULL when it is treated as local.
 */
const char *consent_storage_network_fs_name (guint64 f_type);

/**
 * consent_storage_check_fs_type:
 * Applies the filesystem rule to @f_type for @path (used in the message).
 */
gboolean consent_storage_check_fs_type (guint64 f_type, const char *path,
                                        gboolean allow_network, GError **error);

/**
 * consent_storage_open_location:
 * Checks @location against @policy's storage roots (after resolving `..` and
 * symlinks; no symlink may lead out of a root), opens it component by
 * component with O_DIRECTORY|O_NOFOLLOW from the root, and checks its
 * filesystem. Returns a directory fd (O_CLOEXEC) or -1 with @error.
 */
int consent_storage_open_location (const ConsentPolicy *policy, const char *location,
                                   GError **error);

/**
 * consent_storage_open_meeting_dir:
 * Opens (creating with mode 0750 if needed) the directory @meeting below
 * @location_fd, refusing a symlink, an invalid id and a network filesystem.
 * @location names the parent in messages.
 */
int consent_storage_open_meeting_dir (int location_fd, const char *location,
                                      const char *meeting, gboolean allow_network,
                                      GError **error);

/**
 * consent_storage_create_file:
 * Creates @name in @dir_fd (read-write, to hash it back) with O_CREAT|O_EXCL|O_NOFOLLOW
 * and mode 0640. Returns the fd or -1 with @error (an existing file is never reused).
 */
int consent_storage_create_file (int dir_fd, const char *dir_path, const char *name,
                                 GError **error);

G_END_DECLS
