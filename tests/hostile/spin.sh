# Burn CPU forever.
while :; do :; done
