#!/usr/bin/env bash
# Runs the whole test suite: unit, conformance, property, transport, vhost-user protocol and the
# real-guest tests (QEMU + Linux guest against the daemon).
#
# It first prepares the guest environment (QEMU 10 from bookworm-backports, Debian's kernel,
# gpio-virtio.ko built from linux-source, busybox + libgpiod initramfs) with
# scripts/guest/prepare.sh, which installs missing Debian packages when run as root and caches
# its outputs under .guest/. Set VIRTIOGPIO_SKIP_GUEST=1 to skip that step (the real-guest tests
# then skip themselves unless VIRTIOGPIO_REQUIRE_GUEST=1).
#
# Extra arguments are passed to `dotnet test` (e.g. --filter "Category!=RequiresQemu").
set -euo pipefail
cd "$(dirname "$0")"

if [[ "${VIRTIOGPIO_SKIP_GUEST:-0}" != "1" ]]; then
  scripts/guest/prepare.sh
fi

dotnet test VirtioGpio.Device.sln -c Release \
  --logger "trx" --results-directory artifacts/test-results "$@"
