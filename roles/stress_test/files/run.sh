#!/usr/bin/env bash
# Stress test of one Lite Cluster node (written by the modelarts.lite.stress_test role).
# Items: $STRESS_ITEMS; results in $RESULTS_DIR/<run>/<item>.log; on failure a JSON summary is
# posted to $NOTIFY_URL. HCCL_OP_RETRY_* and HCCL_EXEC_TIMEOUT come from the pod environment.
set -u
run="$(date -u +%Y%m%dT%H%M%SZ)-${NODE_NAME}"
out="${RESULTS_DIR}/${run}"
mkdir -p "${out}"
failed=()

run_item() {
  local item="$1"; shift
  echo "== ${item}: $*" >>"${out}/${item}.log"
  if ! "$@" >>"${out}/${item}.log" 2>&1; then failed+=("${item}"); fi
}

for item in ${STRESS_ITEMS//,/ }; do
  case "${item}" in
    npu_compute)  run_item npu_compute ascend-dmi --dg -i aicore,aiflops,hbm --scene stressTest -q ;;
    hccs_links)   run_item hccs_links ascend-dmi --bw -t p2p ;;
    roce_network) run_item roce_network ascend-dmi --dg -i network,nic,signalQuality -q ;;
    storage_io)   run_item storage_io fio --name=stress --directory="${out}" --rw=randrw --bs=1M --size=4G \
                    --direct=1 --numjobs=4 --runtime=300 --time_based --group_reporting ;;
  esac
done

status=PASS
if [ "${#failed[@]}" -gt 0 ]; then status=FAIL; fi
printf '{"node":"%s","run":"%s","status":"%s","failed":"%s"}\n' "${NODE_NAME}" "${run}" "${status}" "${failed[*]:-}" \
  | tee "${out}/summary.json"
if [ "${status}" = FAIL ] && [ -n "${NOTIFY_URL}" ]; then
  curl -fsS -m 30 -H 'Content-Type: application/json' --data @"${out}/summary.json" "${NOTIFY_URL}" || true
fi
[ "${status}" = PASS ]
