# Am I root? Can I get capabilities back?
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name,allowed"; else echo "$name,denied"; fi; }
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
    try ping ping -c 1 -W 1 127.0.0.1
    try chroot chroot / true
    try setuid_su su -c true root
    try userns unshare -r true
    try mount mount -t tmpfs tmpfs /tmp
} >/output/predictions.csv
