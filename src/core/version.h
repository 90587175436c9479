/* Version and build provenance, generated at build time (scripts/version.sh). */
#ifndef DRMM_VERSION_H
#define DRMM_VERSION_H
extern const char *drmm_version;
extern const char *drmm_git_commit;   /* full hash, or "unknown" */
extern const int drmm_git_dirty;      /* 1 if the tree had uncommitted changes */
#endif
