# Sleep forever, ignoring polite signals.
trap '' TERM INT HUP
sleep 2147483647
