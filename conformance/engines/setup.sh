#!/bin/sh
# Install the engines the conformance engine tests drive: podman (with conmon),
# containerd (runc v2 shim, ctr) and Docker (docker.io: dockerd, docker, docker-init), from Debian. Idempotent; no service is
# started or enabled (the tests start and stop their own daemons).
#   sh conformance/engines/setup.sh
set -e
need=""
command -v podman >/dev/null 2>&1 || need="$need podman"
command -v conmon >/dev/null 2>&1 || need="$need conmon"
command -v containerd >/dev/null 2>&1 || need="$need containerd"
command -v ctr >/dev/null 2>&1 || need="$need containerd"
command -v containerd-shim-runc-v2 >/dev/null 2>&1 || need="$need containerd"
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v docker >/dev/null 2>&1 || need="$need docker.io"
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package scripts from starting containerd.service and docker.service
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; fi
  apt-get install -y --no-install-recommends $need
fi
podman --version
ctr --version
conmon --version | head -1
dockerd --version
