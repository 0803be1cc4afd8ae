#!/bin/sh
# A job for the signal tests. $1 is a directory: the script writes "started" there once
# it runs, and "got-signal" (naming the signal) when SIGTERM or SIGINT reaches it, then
# exits as a shell killed by that signal would. It also writes its parent's pid (the
# hookpoint process) to "ppid".
dir=$1
trap 'echo TERM > "$dir/got-signal"; exit 143' TERM
trap 'echo INT > "$dir/got-signal"; exit 130' INT
echo $PPID > "$dir/ppid"
echo started > "$dir/started"
while :; do sleep 0.1; done
