# 1 GiB to stdout, then a valid predictions file.
head -c 1073741824 /dev/zero | tr '\0' 'x'
printf 'id,y\n1,0.5\n' >/output/predictions.csv
