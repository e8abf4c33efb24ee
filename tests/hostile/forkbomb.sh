# A fork bomb, then count processes with shell builtins only (forking may be impossible).
bomb() { bomb | bomb & }
bomb 2>/dev/null
i=0
while [ $i -lt 200000 ]; do i=$((i + 1)); done
n=0
for p in /proc/[0-9]*; do n=$((n + 1)); done
read -r max </sys/fs/cgroup/pids/pids.max 2>/dev/null || read -r max </sys/fs/cgroup/pids.max  # v1, v2
{ echo "probe,result"; echo "processes,$n"; echo "pids_max,$max"; } >/output/predictions.csv
