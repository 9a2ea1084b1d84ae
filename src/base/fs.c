/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers (see fs.h). */
#include "base/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/xalloc.h"

int fs_mkdir_p(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}
