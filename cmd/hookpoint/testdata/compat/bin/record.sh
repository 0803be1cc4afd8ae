#!/usr/bin/env bash
# record.sh: the command every hook in the compatibility corpus runs. It records how it
# was invoked into a fresh directory under $COMPAT_OUT, which the server must pass on from
# its own environment, as webhook does:
#
#   argv      the arguments after argv[0], each followed by a NUL byte
#   environ   the process's initial environment, NUL-separated, read from
#             /proc/self/environ so names a shell would drop (HOOK_X-Foo) survive
#   cwd       the working directory (physical path)
#   files/N   for each environment variable N whose value is a path to a regular file:
#             a copy of that file (pass-file-to-command); paths/N holds the path
#
# $COMPAT_OUT/.running.<pid> exists from the moment the script starts until its record is
# complete; the record is assembled in a staging directory and renamed to
# $COMPAT_OUT/inv.<pid> in one step, so a reader never sees half of it.
#
# It then prints one fixed line to stdout and one to stderr (webhook captures both) and
# exits with the code in the first argument when that argument is "exit=N", else in
# $RECORD_EXIT, else 0. When $RECORD_SLEEP is set it sleeps that many seconds before
# recording, which lets the harness tell an asynchronous hook from a synchronous one.
set -u
out=${COMPAT_OUT:?record.sh: COMPAT_OUT is not set}
: > "$out/.running.$$"

if [ -n "${RECORD_SLEEP:-}" ]; then
  sleep "$RECORD_SLEEP"
fi

stage=$out/.stage.$$
mkdir -p "$stage/files" "$stage/paths"
if [ "$#" -gt 0 ]; then
  printf '%s\0' "$@" > "$stage/argv"
else
  : > "$stage/argv"
fi
cat /proc/$$/environ > "$stage/environ"
pwd -P > "$stage/cwd"
while IFS= read -r -d '' entry; do
  name=${entry%%=*}
  value=${entry#*=}
  case $value in
    /*) if [ -f "$value" ]; then
          cp -- "$value" "$stage/files/$name"
          printf '%s' "$value" > "$stage/paths/$name"
        fi ;;
  esac
done < /proc/$$/environ
mv "$stage" "$out/inv.$$"
rm -f "$out/.running.$$"

code=${RECORD_EXIT:-0}
if [[ ${1-} =~ ^exit=([0-9]+)$ ]]; then
  code=${BASH_REMATCH[1]}
fi
echo "record.sh: recorded $# argument(s)"
echo "record.sh: this line went to stderr" >&2
if [ "$code" != 0 ]; then
  echo "record.sh: exiting with status $code" >&2
fi
exit "$code"
