/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sd_notify: libsystemd when built with it, else the datagram protocol by hand. */
#ifndef UL_NOTIFY_H
#define UL_NOTIFY_H

#include <stdint.h>

void ul_notify(const char *state);
/* Watchdog interval in ms from WATCHDOG_USEC (for our pid), 0 if none. */
uint64_t ul_notify_watchdog_ms(void);

#endif
