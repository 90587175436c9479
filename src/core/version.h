/* Version and build provenance, generated at build time (scripts/version.sh). */
#ifndef DRMM_VERSION_H
#define DRMM_VERSION_H
#define DRMM_GIT_DIFF_MAX 65536
extern const char *drmm_version;
extern const char *drmm_git_commit;   /* full hash, or "unknown" */
extern const int drmm_git_dirty;      /* 1 if the tree had uncommitted changes */
/* When dirty: git diff HEAD of the tree (tracked files), its size in bytes,
 * its SHA-256 (hex) and its first DRMM_GIT_DIFF_MAX bytes, NUL-terminated
 * (drmm_git_diff_bytes > DRMM_GIT_DIFF_MAX: cut).  Clean: 0, "", "". */
extern const long drmm_git_diff_bytes;
extern const char drmm_git_diff_sha256[65];
extern const char drmm_git_diff[DRMM_GIT_DIFF_MAX + 1];
#endif
