#!/bin/sh
# Backs up Replyflow while it runs: a consistent copy of the database (replyflow backup,
# checked with PRAGMA integrity_check) and the new files of the uploads folder. Old
# database copies are deleted after KEEP_DAYS. Run by replyflow-backup.timer; see
# docs/deploying.md.
set -eu
REPLYFLOW=${REPLYFLOW:-/usr/local/bin/replyflow}
ENV_FILE=${ENV_FILE:-/etc/replyflow/replyflow.env}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/replyflow}
UPLOADS_DIR=${UPLOADS_DIR:-/var/lib/replyflow/uploads}
KEEP_DAYS=${KEEP_DAYS:-14}

mkdir -p "$BACKUP_DIR/uploads"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
"$REPLYFLOW" backup --env-file "$ENV_FILE" "$BACKUP_DIR/replyflow-$stamp.sqlite"
# Uploads are never changed once written, so copying the new ones is enough.
if [ -d "$UPLOADS_DIR" ]; then
    cp -R -p -n "$UPLOADS_DIR/." "$BACKUP_DIR/uploads/"
fi
find "$BACKUP_DIR" -maxdepth 1 -name 'replyflow-*.sqlite' -mtime +"$KEEP_DAYS" -delete
echo "backed up to $BACKUP_DIR/replyflow-$stamp.sqlite"
