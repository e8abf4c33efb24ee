# Make /output/predictions.csv a link to $1 (a host path, /etc/passwd, /input/...).
ln -s "$1" /output/predictions.csv
