/* SPDX-License-Identifier: Apache-2.0 */
/* Small file-system helpers shared by the modules that keep state in directories. */
#ifndef VIGIL_BASE_FS_H
#define VIGIL_BASE_FS_H

#include <sys/types.h>

/* mkdir -p: create path and any missing parents with mode (existing ones are kept as they
 * are). 0 or -errno of the first mkdir that failed. */
int fs_mkdir_p(const char *path, mode_t mode);

#endif
