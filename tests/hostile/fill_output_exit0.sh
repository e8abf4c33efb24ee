# Fill /output past its cap, leave it full and claim success.
dd if=/dev/zero of=/output/fill bs=1M count=256 2>/dev/null
exit 0
