#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: tshark (checks our
# pcap files), tcpdump/ethtool (fixture capture), iproute2 and ping (network
# namespaces for the interop tests), curl and nftables (interop tests),
# postgresql and redis-server (real database servers the pg and ioredis clients
# reach over the TUN link), chromium (the web API runs in a real browser).
# Idempotent; quiet when all is present.
set -euo pipefail

need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
# The interop tests: curl downloads from sockstack's HTTP server, nft impairs the path (no netem in some kernels).
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v nft >/dev/null 2>&1 || need+=(nftables)
# Real servers for the Node API drop-in tests (pg, ioredis), started inside a namespace by the test.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The web connect() API in a real browser, driven by playwright-core.
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "install-deps: need root to install: ${need[*]} (run as root, or install them yourself)" >&2
    exit 1
  fi
else
  SUDO=
fi

echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
