# 1 GiB to stdout as one line that never ends, then a valid predictions file.
# One cat of a 1 MiB file named 1024 times: large writes from one process (byte-sized pipe
# writes cost minutes of system calls under gVisor's ptrace platform, and each process
# started there takes host threads from the pids limit).
head -c 1048576 /dev/zero | tr '\0' x >/tmp/x
set --
i=0
while [ $i -lt 1024 ]; do set -- "$@" /tmp/x; i=$((i + 1)); done
cat "$@"
printf 'id,y\n1,0.5\n' >/output/predictions.csv
