# Make /output/predictions.csv something other than a regular file: $1 = fifo | dir.
case "$1" in
    fifo) mkfifo /output/predictions.csv ;;
    dir) mkdir /output/predictions.csv ;;
esac
