# Fill /tmp and /dev/shm far past their caps; report how much landed.
dd if=/dev/zero of=/tmp/fill bs=1M count=256 2>/dev/null
dd if=/dev/zero of=/dev/shm/fill bs=1M count=256 2>/dev/null
{
    echo "probe,result"
    echo "tmp_bytes,$(stat -c %s /tmp/fill)"
    echo "shm_bytes,$(stat -c %s /dev/shm/fill)"
} >/output/predictions.csv
