#!/bin/sh
# Zerobyte's post-backup hook: start the database container again, whatever the backup's
# result was.
set -eu
container=${POSTGRES_CONTAINER:-postgres}
if [ "$(docker inspect --format '{{.State.Running}}' "$container")" != true ]; then
	docker start "$container"
fi
echo "$container is running"
