#!/usr/bin/env bash
# falco-lab: the workshop's three Falco tests with plain kubectl, for people who prefer a shell.
#
#   1. a shell in a container, with a terminal (kubectl exec -it) and without one;
#   2. a pod that mounts the host's container-runtime socket (containerd's, which exists
#      on every EKS node; Docker's socket is not there on current EKS AMIs);
#   3. a pod that mounts the host's /etc.
#
# The pods are the same manifests the Python helpers use (`falco-lab cluster manifests`):
# namespace falco-lab, unprivileged sleeping busybox, resource limits. They are deleted
# on exit, also when a step fails or on Ctrl-C.
#
# Usage: tests/test.sh            (kubectl's current context; KUBECONTEXT=name to choose,
#                                  SOCKET=<host path> for another runtime socket in test 2)
# Needs: kubectl, and falco-lab (or python with the falco_lab package) to print the manifests.
set -euo pipefail

NAMESPACE=falco-lab
SHELL_POD=falco-lab-shell
SELECTOR=app.kubernetes.io/managed-by=falco-lab
TIMEOUT=${TIMEOUT:-120s}
FALCO_NAMESPACE=${FALCO_NAMESPACE:-falco}

if command -v falco-lab >/dev/null 2>&1; then
  FALCO_LAB=(falco-lab)
else
  FALCO_LAB=("${PYTHON:-python3}" -m falco_lab)
fi
KUBECTL=(kubectl)
if [[ -n "${KUBECONTEXT:-}" ]]; then
  KUBECTL+=(--context "$KUBECONTEXT")
fi

# The namespace and the three pods, exactly as the Python helpers build them.
MANIFESTS=$(mktemp "${TMPDIR:-/tmp}/falco-lab-manifests.XXXXXX")
# SOCKET=/var/run/docker.sock tests/test.sh  for test 2 on nodes that really run Docker
"${FALCO_LAB[@]}" cluster manifests ${SOCKET:+--socket "$SOCKET"} > "$MANIFESTS"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  echo "== cleanup: deleting the test pods and namespace"
  "${KUBECTL[@]}" delete -f "$MANIFESTS" --ignore-not-found --wait=false || true
  rm -f "$MANIFESTS"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "== creating namespace $NAMESPACE and the three test pods (tests 2 and 3 alert as their containers start)"
"${KUBECTL[@]}" apply -f "$MANIFESTS"
"${KUBECTL[@]}" -n "$NAMESPACE" wait --for=condition=Ready pod -l "$SELECTOR" --timeout="$TIMEOUT"

echo "== test 1a: shell WITH a terminal"
if [[ -t 0 ]]; then
  "${KUBECTL[@]}" -n "$NAMESPACE" exec -it "$SHELL_POD" -- sh -c 'echo falco-lab test 1; id -u'
elif command -v script >/dev/null 2>&1; then
  # no terminal here (CI, a pipe): let script(1) provide one so that -t works
  script -qec "${KUBECTL[*]} -n $NAMESPACE exec -it $SHELL_POD -- sh -c 'echo falco-lab test 1; id -u'" /dev/null
else
  echo "   skipped: stdin is not a terminal and script(1) is missing" >&2
fi

echo "== test 1b: shell WITHOUT a terminal"
"${KUBECTL[@]}" -n "$NAMESPACE" exec "$SHELL_POD" -- sh -c 'echo falco-lab test 1; id -u'

echo "== alerts from Falco since $started (rules may take a few seconds to show up)"
sleep "${ALERT_WAIT:-5}"
"${KUBECTL[@]}" -n "$FALCO_NAMESPACE" logs -l app.kubernetes.io/name=falco -c falco --since-time="$started" --tail=-1 \
  | grep -E '"rule":"(Falco Lab|Terminal shell in container|Launch Sensitive Mount Container)' || echo "   (none yet)"
