# A predictions file whose header has 10 million columns (about 89 MB).
awk 'BEGIN { printf "id"; for (i = 0; i < 10000000; i++) printf ",c%d", i; printf "\n" }' \
    >/output/predictions.csv
