# Fill /output far past its cap (one big file, then many small ones); report and clean up.
dd if=/dev/zero of=/output/fill bs=1M count=256 2>/dev/null
size=$(stat -c %s /output/fill)
rm -f /output/fill
mkdir /output/many
i=0
while [ $i -lt 20000 ] && true >"/output/many/$i" 2>/dev/null; do i=$((i + 1)); done
rm -rf /output/many
{ echo "probe,result"; echo "output_bytes,$size"; echo "output_files,$i"; } >/output/predictions.csv
