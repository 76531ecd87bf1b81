#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Prepares everything the real-guest tests need, from Debian 12 (bookworm) packages only:
#   - QEMU >= 10 (qemu-system-x86 from bookworm-backports; 7.2 never offers VIRTIO_GPIO_F_IRQ),
#   - Debian's own kernel (linux-image-<ABI>, downloaded and unpacked, not installed),
#   - gpio-virtio.ko built out of tree from linux-source-6.1 against linux-headers-<ABI>
#     (Debian does not enable CONFIG_GPIO_VIRTIO), plus vgpio_level.ko (level-interrupt helper),
#   - a ~2 MB initramfs: busybox-static, the libgpiod tools, the virtio modules, /init.
#
# Outputs (cached, re-used when their inputs are unchanged) in $VIRTIOGPIO_GUEST_DIR, default
# <repo>/.guest:  vmlinuz  initrd.gz  guest.env  (plus build/ and work files)
# guest.env lists QEMU=, QEMU_VERSION=, ABI=, KERNEL=, INITRD= for the tests and run.sh.
#
# Idempotent and safe to re-run. Installs missing packages when run as root (apt-get); otherwise
# says which ones to install. The kernel ABI is resolved from apt (never hard-coded).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
GUEST_DIR="${VIRTIOGPIO_GUEST_DIR:-$REPO_ROOT/.guest}"
START_NS=$(date +%s%N)

log() { echo "[guest/prepare] $*"; }
die() { echo "[guest/prepare] ERROR: $*" >&2; exit 1; }
on_error() { local rc=$?; echo "[guest/prepare] ERROR: command failed (exit $rc) at line $1: $2" >&2; exit "$rc"; }
trap 'on_error $LINENO "$BASH_COMMAND"' ERR

export DEBIAN_FRONTEND=noninteractive
IS_ROOT=0; [[ $EUID -eq 0 ]] && IS_ROOT=1
APT_UPDATED=0
apt_update() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    [[ $IS_ROOT -eq 1 ]] || die "apt-get update needs root"
    log "apt-get update"
    apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
apt_install() { # apt_install [apt options] -- pkg...
  local opts=()
  while [[ $1 != "--" ]]; do opts+=("$1"); shift; done
  shift
  if [[ $IS_ROOT -ne 1 ]]; then
    die "missing packages: $* — install them as root: apt-get install ${opts[*]} $*"
  fi
  apt_update
  log "apt-get install ${opts[*]} $*"
  apt-get install -y -qq --no-install-recommends "${opts[@]}" "$@" >/dev/null || die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------
# 0. Distribution
# shellcheck disable=SC1091
CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[[ "$CODENAME" == "bookworm" ]] || die "needs Debian 12 (bookworm); this is '${CODENAME:-unknown}'"
command -v apt-get >/dev/null || die "apt-get not found"
mkdir -p "$GUEST_DIR"
GUEST_DIR="$(cd "$GUEST_DIR" && pwd)"
log "guest directory: $GUEST_DIR"

# ---------------------------------------------------------------------------------------------
# 1. QEMU >= 10 from bookworm-backports
qemu_major() { { qemu-system-x86_64 --version 2>/dev/null || true; } | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p'; }
ensure_backports_source() {
  if grep -rqs "${CODENAME}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "a ${CODENAME}-backports apt source already exists"
    return
  fi
  # Copy URIs and Signed-By of the machine's existing Debian entry (deb822 or one-line format).
  local uri="" signed=""
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    # Print "URI|SIGNED" of the first stanza whose Suites contain the bare codename.
    read -r uri signed < <(awk -v cn="$CODENAME" '
      function flush() { if (suites_ok && uri != "" && types ~ /(^| )deb( |$)/) { print uri, (signed == "" ? "-" : signed); found = 1; exit } }
      /^[ \t]*$/ { flush(); uri = ""; signed = ""; suites_ok = 0; types = ""; next }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^URIs:/ { uri = $2 }
      /^Signed-By:/ { signed = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == cn) suites_ok = 1 }
      END { if (!found) flush() }' "$f") || true
    [[ -n "$uri" ]] && break
  done
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk -v cn="$CODENAME" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i == cn) { u = $(i - 1); if (u !~ /^\[/) { print u; exit } } }' /etc/apt/sources.list)"
    signed="-"
  fi
  [[ -n "$uri" ]] || die "found no Debian '$CODENAME' apt source to copy for ${CODENAME}-backports"
  local out=/etc/apt/sources.list.d/virtiogpio-${CODENAME}-backports.sources
  log "adding $out (URIs and Signed-By copied from the existing Debian entry)"
  {
    echo "Types: deb"
    echo "URIs: $uri"
    echo "Suites: ${CODENAME}-backports"
    echo "Components: main"
    if [[ "$signed" != "-" && -n "$signed" ]]; then echo "Signed-By: $signed"; fi
  } > "$out"
  APT_UPDATED=0
}
QEMU_MAJOR="$(qemu_major)"
if [[ -z "$QEMU_MAJOR" || "$QEMU_MAJOR" -lt 10 ]]; then
  log "QEMU ${QEMU_MAJOR:-not installed} found; need >= 10 (vhost-user-gpio passes VIRTIO_GPIO_F_IRQ only from the vhost-user-base era)"
  [[ $IS_ROOT -eq 1 ]] || die "install qemu-system-x86 from ${CODENAME}-backports as root (apt-get install -t ${CODENAME}-backports qemu-system-x86)"
  ensure_backports_source
  apt_update
  apt_install -t "${CODENAME}-backports" -- qemu-system-x86
  QEMU_MAJOR="$(qemu_major)"
  [[ -n "$QEMU_MAJOR" && "$QEMU_MAJOR" -ge 10 ]] || die "QEMU >= 10 still not available after installing from ${CODENAME}-backports"
fi
QEMU="$(command -v qemu-system-x86_64)"
QEMU_VERSION="$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([^ ]*\).*/\1/p')"
log "QEMU $QEMU_VERSION ($QEMU)"

# ---------------------------------------------------------------------------------------------
# 2. Kernel ABI from apt, then the remaining packages
resolve_abi() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1; }
# apt-cache rebuilds its package cache on every call where pkgcache is disabled (Debian container images):
# ~1 s. Re-use the last answer while the apt lists are unchanged.
lists_key() { find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -printf '%f %T@ %s\n' 2>/dev/null | sort | sha256sum | cut -c1-16; }
ABI_CACHE="$GUEST_DIR/abi.cache"
LISTS_KEY="$(lists_key)"
ABI=""
if [[ -f "$ABI_CACHE" ]]; then
  read -r cached_key cached_abi < "$ABI_CACHE" || true
  [[ "${cached_key:-}" == "$LISTS_KEY" ]] && ABI="${cached_abi:-}"
fi
[[ -n "$ABI" ]] || ABI="$(resolve_abi)"
if [[ -z "$ABI" ]]; then
  apt_update
  ABI="$(resolve_abi)"
fi
[[ -n "$ABI" ]] || die "could not resolve the kernel ABI from 'apt-cache depends linux-image-amd64'"
echo "$(lists_key) $ABI" > "$ABI_CACHE"
log "kernel ABI: $ABI (apt-cache depends linux-image-amd64; re-used while the apt lists are unchanged)"

NEEDED=(busybox-static gpiod linux-source-6.1 "linux-headers-$ABI" build-essential kmod cpio xz-utils gzip)
MISSING=()
for p in "${NEEDED[@]}"; do pkg_installed "$p" || MISSING+=("$p"); done
if [[ ${#MISSING[@]} -gt 0 ]]; then
  apt_install -- "${MISSING[@]}"
fi
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
HEADERS=/usr/src/linux-headers-$ABI
[[ -f "$SRC_TAR" ]] || die "$SRC_TAR missing (package linux-source-6.1)"
[[ -d "$HEADERS" ]] || die "$HEADERS missing (package linux-headers-$ABI)"
[[ -x /bin/busybox ]] || die "/bin/busybox missing (package busybox-static)"
command -v gpiodetect >/dev/null || die "gpiodetect missing (package gpiod)"

# ---------------------------------------------------------------------------------------------
# 3. Kernel image and modules (apt-get download + dpkg-deb -x; nothing is installed in /boot)
KDIR="$GUEST_DIR/kernel/$ABI"
VIRTIO_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio)
kernel_ready() {
  [[ -s "$KDIR/vmlinuz" ]] || return 1
  local m
  for m in "${VIRTIO_MODULES[@]}"; do [[ -s "$KDIR/modules/$m.ko" ]] || return 1; done
}
if ! kernel_ready; then
  rm -rf "$KDIR"
  mkdir -p "$KDIR/modules" "$GUEST_DIR/tmp"
  DL="$(mktemp -d "$GUEST_DIR/tmp/download.XXXXXX")"
  apt_update_if_needed_for_download() { apt-cache show "linux-image-$ABI" >/dev/null 2>&1 || apt_update; }
  apt_update_if_needed_for_download
  log "apt-get download linux-image-$ABI"
  if ! (cd "$DL" && apt-get download -qq -o APT::Sandbox::User=root "linux-image-$ABI"); then
    # Stale lists name a file the mirror no longer has: refresh once and retry.
    [[ $APT_UPDATED -eq 0 && $IS_ROOT -eq 1 ]] || die "apt-get download linux-image-$ABI failed"
    apt_update
    (cd "$DL" && apt-get download -qq -o APT::Sandbox::User=root "linux-image-$ABI") || die "apt-get download linux-image-$ABI failed"
  fi
  DEB="$(ls "$DL"/linux-image-*.deb)"
  log "dpkg-deb -x $(basename "$DEB")"
  mkdir -p "$DL/root"
  dpkg-deb -x "$DEB" "$DL/root"
  cp "$DL/root/boot/vmlinuz-$ABI" "$KDIR/vmlinuz"
  for m in "${VIRTIO_MODULES[@]}"; do
    f="$(find "$DL/root/lib/modules/$ABI" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)"
    [[ -n "$f" ]] || die "module $m not found in linux-image-$ABI"
    case "$f" in
      *.xz) xz -dc "$f" > "$KDIR/modules/$m.ko" ;;
      *) cp "$f" "$KDIR/modules/$m.ko" ;;
    esac
  done
  dpkg-deb -f "$DEB" Version > "$KDIR/package-version"
  rm -rf "$DL"
  log "kernel and ${#VIRTIO_MODULES[@]} virtio modules cached in $KDIR"
else
  log "kernel $ABI: cached"
fi

# ---------------------------------------------------------------------------------------------
# 4. Out-of-tree modules: gpio-virtio.ko (from linux-source-6.1) and vgpio_level.ko (ours)
BDIR="$GUEST_DIR/build/$ABI"
vermagic() { modinfo -F vermagic "$1" 2>/dev/null || /sbin/modinfo -F vermagic "$1"; }
build_module() { # build_module DIR NAME
  local dir="$1" name="$2"
  log "make -C $HEADERS M=$dir modules  ($name.ko)"
  make -s -C "$HEADERS" M="$dir" modules > "$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; die "building $name.ko failed"; }
  [[ -s "$dir/$name.ko" ]] || die "$dir/$name.ko was not produced"
  local want have
  want="$(vermagic "$KDIR/modules/virtio.ko")"; have="$(vermagic "$dir/$name.ko")"
  [[ "$want" == "$have" ]] || die "$name.ko vermagic '$have' does not match the kernel's '$want'"
}
GV="$BDIR/gpio-virtio"
if [[ ! -s "$GV/gpio-virtio.ko" ]]; then
  rm -rf "$GV"; mkdir -p "$GV"
  log "extracting drivers/gpio/gpio-virtio.c from $SRC_TAR (takes a few seconds)"
  tar -xJf "$SRC_TAR" -C "$GV" --strip-components=3 linux-source-6.1/drivers/gpio/gpio-virtio.c
  [[ -s "$GV/gpio-virtio.c" ]] || die "gpio-virtio.c not found in $SRC_TAR"
  echo 'obj-m := gpio-virtio.o' > "$GV/Kbuild"
  build_module "$GV" gpio-virtio
else
  log "gpio-virtio.ko: cached"
fi
LV="$BDIR/vgpio-level"
LV_KEY="$(cat "$SCRIPT_DIR/vgpio-level/vgpio_level.c" "$SCRIPT_DIR/vgpio-level/Kbuild" | sha256sum | cut -c1-16)"
if [[ ! -s "$LV/vgpio_level.ko" || "$(cat "$LV/key" 2>/dev/null)" != "$LV_KEY" ]]; then
  rm -rf "$LV"; mkdir -p "$LV"
  cp "$SCRIPT_DIR/vgpio-level/vgpio_level.c" "$SCRIPT_DIR/vgpio-level/Kbuild" "$LV/"
  build_module "$LV" vgpio_level
  echo "$LV_KEY" > "$LV/key"
else
  log "vgpio_level.ko: cached"
fi

# ---------------------------------------------------------------------------------------------
# 5. initramfs (rebuilt when any input changes)
GPIOD_TOOLS=(gpiodetect gpioinfo gpioget gpioset gpiomon gpiofind)
INITRD="$GUEST_DIR/initrd.gz"
INITRD_KEY="$( {
  echo "$ABI"
  cat "$SCRIPT_DIR/init.sh" "$SCRIPT_DIR/prepare.sh"
  dpkg-query -W -f='${Version}\n' busybox-static gpiod libgpiod2
  sha256sum "$GV/gpio-virtio.ko" "$LV/vgpio_level.ko" "$KDIR/modules/"*.ko
} | sha256sum | cut -c1-16)"
if [[ ! -s "$INITRD" || "$(cat "$GUEST_DIR/initrd.key" 2>/dev/null)" != "$INITRD_KEY" ]]; then
  mkdir -p "$GUEST_DIR/tmp"
  ROOT="$(mktemp -d "$GUEST_DIR/tmp/initramfs.XXXXXX")"
  log "building the initramfs"
  mkdir -p "$ROOT"/{bin,usr/bin,lib/modules,proc,sys,dev,tmp,run,etc}
  cp /bin/busybox "$ROOT/bin/busybox"
  ln -s busybox "$ROOT/bin/sh"
  for t in "${GPIOD_TOOLS[@]}"; do cp "$(command -v "$t")" "$ROOT/usr/bin/$t"; done
  # Shared libraries of the tools, and the dynamic loader, at the paths the binaries expect.
  for lib in $(for t in "${GPIOD_TOOLS[@]}"; do ldd "$ROOT/usr/bin/$t"; done | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' | sort -u); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
  cp "$KDIR/modules/"*.ko "$GV/gpio-virtio.ko" "$LV/vgpio_level.ko" "$ROOT/lib/modules/"
  cp "$SCRIPT_DIR/init.sh" "$ROOT/init"
  chmod 0755 "$ROOT/init"
  (cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet | gzip -9 -n > "$INITRD.tmp")
  # Pad to a multiple of 4 bytes: Linux only recognises an appended (uncompressed) cpio archive
  # that starts 4-byte aligned; the zero bytes between archives are skipped.
  pad=$(( (4 - $(stat -c %s "$INITRD.tmp") % 4) % 4 ))
  head -c "$pad" /dev/zero >> "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  echo "$INITRD_KEY" > "$GUEST_DIR/initrd.key"
  rm -rf "$ROOT"
  log "initramfs: $INITRD ($(du -k "$INITRD" | cut -f1) KiB)"
else
  log "initramfs: cached ($(du -k "$INITRD" | cut -f1) KiB)"
fi

# Drop caches of other kernel ABIs (apt moved on to a newer kernel).
for d in "$GUEST_DIR"/kernel/* "$GUEST_DIR"/build/*; do
  if [[ -d "$d" && "$(basename "$d")" != "$ABI" ]]; then
    log "removing stale cache $d"
    rm -rf "$d"
  fi
done
if ! cmp -s "$KDIR/vmlinuz" "$GUEST_DIR/vmlinuz"; then
  cp -f "$KDIR/vmlinuz" "$GUEST_DIR/vmlinuz.tmp" && mv -f "$GUEST_DIR/vmlinuz.tmp" "$GUEST_DIR/vmlinuz"
fi
cat > "$GUEST_DIR/guest.env.tmp" <<ENV
QEMU=$QEMU
QEMU_VERSION=$QEMU_VERSION
ABI=$ABI
KERNEL_PACKAGE_VERSION=$(cat "$KDIR/package-version")
KERNEL=$GUEST_DIR/vmlinuz
INITRD=$INITRD
ENV
mv -f "$GUEST_DIR/guest.env.tmp" "$GUEST_DIR/guest.env"
rmdir "$GUEST_DIR/tmp" 2>/dev/null || true
END_NS=$(date +%s%N)
log "ready in $(( (END_NS - START_NS) / 1000000 )) ms: $GUEST_DIR/{vmlinuz,initrd.gz,guest.env}"
