# A predictions file whose header has 10 million columns (about 89 MB): id,c0,c1,...,c9999999.
# busybox seq writes through stdio (a few thousand write calls); an awk printf per column is
# one write call each, 10 million system calls that take minutes under gVisor's ptrace
# platform: the probe is the file, not the writer's speed.
{ printf 'id,c'; seq -s ,c 0 9999999; } >/output/predictions.csv
