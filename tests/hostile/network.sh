# Try every way out: TCP to the internet and to the Docker bridge gateway, DNS, metadata.
# $1: the bridge gateway address, $2: a port the test listens on there.
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name,open"; else echo "$name,blocked"; fi; }
{
    echo "probe,result"
    try tcp_internet nc -w 2 1.1.1.1 53 </dev/null
    try tcp_gateway nc -w 2 "$1" "$2" </dev/null
    try dns nslookup example.com
    try metadata wget -q -T 2 -O /dev/null http://169.254.169.254/latest/meta-data/
    for dev in /sys/class/net/*; do echo "interface,${dev##*/}"; done
} >/output/predictions.csv
