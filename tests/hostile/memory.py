"""Allocate (and touch) far more memory than the limit, 16 MiB at a time."""

chunks = []
for _ in range(64):
    chunks.append(b"x" * (16 << 20))
with open("/output/predictions.csv", "w") as out:
    out.write(f"probe,result\nallocated_mib,{16 * len(chunks)}\n")
