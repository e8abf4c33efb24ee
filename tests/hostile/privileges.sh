# Am I root? Can I get capabilities back?
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name,allowed"; else echo "$name,denied"; fi; }
# Open a host device through a node of one's own: disks (virtio, SCSI, NVMe), memory, the
# kernel log, KVM; in /tmp and in /output. Allowed if any node opens.
host_devices() {
    for dir in /tmp /output; do
        for node in "b 254 0" "b 8 0" "b 259 0" "c 1 1" "c 1 11" "c 10 232"; do
            set -- $node
            mknod "$dir/dev" "$1" "$2" "$3" 2>/dev/null || continue
            if ( : <"$dir/dev" ) 2>/dev/null; then return 0; fi
            rm -f "$dir/dev"
        done
    done
    return 1
}
touch /tmp/f
{
    echo "probe,result"
    echo "uid,$(id -u)"
    echo "gid,$(id -g)"
    echo "cap_eff,$(sed -n 's/^CapEff:\t//p' /proc/self/status)"
    echo "cap_bnd,$(sed -n 's/^CapBnd:\t//p' /proc/self/status)"
    echo "no_new_privs,$(sed -n 's/^NoNewPrivs:\t//p' /proc/self/status)"
    try chown chown 0:0 /tmp/f
    try mknod mknod /tmp/null c 1 3
    try host_devices host_devices
    try ping ping -c 1 -W 1 127.0.0.1
    try chroot chroot / true
    try setuid_su su -c true root
    try userns unshare -r true
    try mount mount -t tmpfs tmpfs /tmp
} >/output/predictions.csv
