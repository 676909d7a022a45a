#!/bin/bash
# Fit deep-clone adapters for every prepared reference on one GPU: each config in two shards, in parallel
# (the fits are small and launch-bound, so several processes share the GPU well). Run from the directory that
# holds src/, bench/ and data/ (bench/clone_deep.py prep output); writes adapters-CONFIG-K.npz and fit.log to $OUT.
set -u
CONFIGS=${CONFIGS:-default,strong,long}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
python3 -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0))'
for cfg in ${CONFIGS//,/ }; do
  for k in 0 1; do
    python3 bench/clone_deep.py fit --data data --out "$OUT" --configs "$cfg" --shard "$k/2" --device cuda \
      > "$OUT/fit-$cfg-$k.log" 2>&1 &
  done
done
wait
grep -h '"config"' "$OUT"/fit-*.log | sort > "$OUT/fit.jsonl"; tail -n 3 "$OUT"/fit-*.log; rm -f "$OUT"/fit-*-*.log
ls -la "$OUT"
