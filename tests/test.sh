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
# Needs: kubectl, and python with the falco_lab package (or the falco-lab command) to print the
# manifests; script(1) (util-linux or BSD) gives test 1a its terminal when stdin is not one.
set -euo pipefail

NAMESPACE=falco-lab
SHELL_POD=falco-lab-shell
SELECTOR=app.kubernetes.io/managed-by=falco-lab
TIMEOUT=${TIMEOUT:-120s}
FALCO_NAMESPACE=${FALCO_NAMESPACE:-falco}

# The manifests come from the package itself; that needs PyYAML only (no pandas), through the
# python that has falco_lab, else the falco-lab command.
if "${PYTHON:-python3}" -c 'import yaml, falco_lab.workshop.manifests' >/dev/null 2>&1; then
  MANIFESTS_CMD=("${PYTHON:-python3}" -m falco_lab.workshop.manifests)
else
  MANIFESTS_CMD=(falco-lab cluster manifests)
fi
KUBECTL=(kubectl)
if [[ -n "${KUBECONTEXT:-}" ]]; then
  KUBECTL+=(--context "$KUBECONTEXT")
fi

MANIFESTS=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -s "$MANIFESTS" ]]; then
    echo "== cleanup: deleting the test pods and namespace"
    "${KUBECTL[@]}" delete -f "$MANIFESTS" --ignore-not-found --wait=false || true
  fi
  if [[ -n "$MANIFESTS" ]]; then rm -f "$MANIFESTS"; fi
  exit "$status"
}
# the traps first: the temporary file below is removed whatever happens next
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The namespace and the three pods, exactly as the Python helpers build them.
MANIFESTS=$(mktemp "${TMPDIR:-/tmp}/falco-lab-manifests.XXXXXX")
# SOCKET=/var/run/docker.sock tests/test.sh  for test 2 on nodes that really run Docker
"${MANIFESTS_CMD[@]}" ${SOCKET:+--socket "$SOCKET"} > "$MANIFESTS"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "== creating namespace $NAMESPACE and the three test pods (tests 2 and 3 alert as their containers start)"
"${KUBECTL[@]}" apply -f "$MANIFESTS"
"${KUBECTL[@]}" -n "$NAMESPACE" wait --for=condition=Ready pod -l "$SELECTOR" --timeout="$TIMEOUT"

echo "== test 1a: shell WITH a terminal"
if [[ -t 0 ]]; then
  "${KUBECTL[@]}" -n "$NAMESPACE" exec -it "$SHELL_POD" -- sh -c 'echo falco-lab test 1; id -u'
elif command -v script >/dev/null 2>&1; then
  # no terminal here (CI, a pipe): let script(1) provide one so that -t works.
  # util-linux script (Linux) takes the command as one string; BSD script (macOS) as words.
  TTY_EXEC=("${KUBECTL[@]}" -n "$NAMESPACE" exec -it "$SHELL_POD" -- sh -c 'echo falco-lab test 1; id -u')
  if script --version 2>/dev/null | grep -q util-linux; then
    script -q -e -c "$(printf '%q ' "${TTY_EXEC[@]}")" /dev/null
  else
    script -q /dev/null "${TTY_EXEC[@]}"
  fi
else
  echo "   skipped: stdin is not a terminal and script(1) is missing" >&2
fi

echo "== test 1b: shell WITHOUT a terminal"
"${KUBECTL[@]}" -n "$NAMESPACE" exec "$SHELL_POD" -- sh -c 'echo falco-lab test 1; id -u'

echo "== alerts from Falco since $started (rules may take a few seconds to show up)"
sleep "${ALERT_WAIT:-5}"
"${KUBECTL[@]}" -n "$FALCO_NAMESPACE" logs -l app.kubernetes.io/name=falco -c falco --since-time="$started" --tail=-1 \
  | grep -E '"rule":"(Falco Lab|Terminal shell in container|Launch Sensitive Mount Container)' || echo "   (none yet)"
