/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PLACEHOLDER: ConsentSource (consentgate issue). */
#include "consent-source.h"
