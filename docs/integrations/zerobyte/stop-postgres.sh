#!/bin/sh
# Zerobyte's pre-backup hook: stop the database container so that restic reads a
# consistent data directory. A non-zero exit makes hookpoint listen answer 500, and
# Zerobyte then fails the backup before restic starts.
set -eu
container=${POSTGRES_CONTAINER:-postgres}
if [ "$(docker inspect --format '{{.State.Running}}' "$container")" = true ]; then
	docker stop "$container"
fi
echo "$container is stopped"
