# Try to write everywhere but /output.
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name,written"; else echo "$name,blocked"; fi; }
{
    echo "probe,result"
    try root_file touch /evil
    try etc_passwd sh -c 'echo "evil:x:0:0::/:/bin/sh" >>/etc/passwd'
    try bin_dir touch /bin/evil
    try input touch /input/evil
    try input_existing sh -c 'echo x >>/input/features.csv'
    try submission touch /submission/evil
    try var_dir mkdir /var/evil
    try remount mount -o remount,rw /
} >/output/predictions.csv
