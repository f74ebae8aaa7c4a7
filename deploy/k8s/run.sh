#!/bin/sh
# Start a split run on the current kubectl context: the scenario, the results volume, the Indexed Job
# (its pods start the load together, LEAD seconds from now), then the merge once every pod is done.
# Usage: deploy/k8s/run.sh [scenario.yaml] [lead seconds, default 120]
set -eu
here=$(dirname "$0")
if [ $# -ge 1 ]; then
  kubectl create configmap mcpload-scenario --from-file=scenario.yaml="$1" --dry-run=client -o yaml | kubectl apply -f -
else
  kubectl apply -f "$here/scenario-configmap.yaml"
fi
kubectl apply -f "$here/results-pvc.yaml"
kubectl delete job mcpload-run mcpload-merge --ignore-not-found
START_AT=$(( $(date +%s) + ${2:-120} ))
export START_AT
envsubst '$START_AT' < "$here/run-job.yaml" | kubectl apply -f -
echo "load starts at $(date -d "@$START_AT" 2>/dev/null || echo "$START_AT") on every pod"
kubectl wait --for=condition=complete job/mcpload-run --timeout=24h || echo "some segments failed: the merge names them"
kubectl apply -f "$here/merge-job.yaml"
kubectl wait --for=condition=complete job/mcpload-merge --timeout=30m || true
kubectl logs job/mcpload-merge
