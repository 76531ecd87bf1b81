# SPDX-License-Identifier: MIT
# Helpers of the differential register scripts (tests/VirtioGpio.IntegrationTests/Differential). The host turns
# Differential/Scripts/*.txt into calls of these functions and appends them to this file; the same scripts are
# replayed against our transports in-process and every value is compared.
#
# The guest boots with vgpio.skipmod=virtio_pci,virtio_mmio,gpio-virtio: no driver claims the device, so /dev/mem
# (busybox devmem) reaches QEMU's virtio-mmio window and the PCI BARs, and sysfs reaches the PCI configuration space.
# Rings live in RAM the kernel was told not to use (memmap=). Markers:
#   VGPIO-KV d:<script>#<op>[.<part>]=<value>   a compared value
#   VGPIO-KV dinfo:<what>=<value>               environment facts (not compared)
#   VGPIO-KV derror=<text>                      the prelude failed; no script ran
dkv() { echo "VGPIO-KV d:$1=$2"; }
dinfo() { echo "VGPIO-KV dinfo:$1=$2"; }
derror() { echo "VGPIO-KV derror=$1"; exit 1; }

# mr ADDR BITS: one read through /dev/mem, printed as 0x... (an error text if devmem fails).
mr() { devmem "$1" "$2" 2>&1; }
# kr KEY ADDR BITS: one read through /dev/mem, reported (no subshell: one process per read).
kr() { printf 'VGPIO-KV d:%s=' "$1"; devmem "$2" "$3" 2>&1; }
# mw ADDR BITS VALUE: one write through /dev/mem.
mw() { devmem "$1" "$2" "$3" || dinfo write-failed "$1/$2"; }
# dpoll KEY WANT READER ARGS...: re-run READER ARGS until it prints WANT (about 5 s at most; a read that prints
# no 0x value stops it), then report the last value.
dpoll() {
  dp_key=$1
  dp_want=$2
  shift 2
  i=0
  while :; do
    v=$("$@")
    case "$v" in 0x*) ;; *) break ;; esac
    [ $((v)) -eq $((dp_want)) ] && break
    i=$((i + 1))
    [ $i -ge 500 ] && break
    sleep 0.01
  done
  dkv "$dp_key" "$v"
}
# mpoll KEY ADDR BITS WANT: /dev/mem poll.
mpoll() { dpoll "$1" "$4" mr "$2" "$3"; }

# cr OFFSET BYTES: one aligned configuration-space read of BYTES (1, 2, 4) through sysfs (Linux issues a
# single config access of that size for an aligned offset), printed as 0x....
cr() { printf '0x'; dd if="$CFG" bs="$2" skip=$(($1 / $2)) count=1 2>/dev/null | od -An -tx"$2" | tr -d ' \n'; }
# kc KEY OFFSET BYTES: one configuration-space read, reported ("0x 0010": the comparison drops the blank; the
# trailing echo ends the line even when dd fails).
kc() { printf 'VGPIO-KV d:%s=0x' "$1"; dd if="$CFG" bs="$3" skip=$(($2 / $3)) count=1 2>/dev/null | od -An -tx"$3"; echo; }
# settle MS: let asynchronous effects (the back-end's notifications, QEMU's main loop) arrive.
settle() { sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"; }
# cw OFFSET BYTES VALUE: one aligned configuration-space write.
cw() {
  cw_s=""
  cw_i=0
  while [ $cw_i -lt "$2" ]; do
    cw_s="$cw_s\\$(printf %03o $((($3 >> (8 * cw_i)) & 255)))"
    cw_i=$((cw_i + 1))
  done
  # shellcheck disable=SC2059 # the format is the escaped bytes
  printf "$cw_s" > /tmp/cw.bin
  dd if=/tmp/cw.bin of="$CFG" bs="$2" seek=$(($1 / $2)) count=1 conv=notrunc 2>/dev/null
}
# cpoll KEY OFFSET BYTES WANT: configuration-space poll.
cpoll() { dpoll "$1" "$4" cr "$2" "$3"; }

# ---- virtio-mmio: find the slot whose DeviceID is 41 -------------------------------------------------------
dfind_mmio() { # dfind_mmio BASE STRIDE COUNT
  s=0
  R_mmio=""
  while [ $s -lt "$3" ]; do
    a=$(($1 + s * $2))
    if [ "$(mr $a 32)" = "0x74726976" ] && [ $(($(mr $((a + 8)) 32))) -eq 41 ]; then
      R_mmio=$a
      break
    fi
    s=$((s + 1))
  done
  [ -n "$R_mmio" ] || derror "no virtio-mmio slot with MagicValue 0x74726976 and DeviceID 41"
  dinfo mmio.slot "$s"
  dinfo mmio.base "$(printf 0x%x "$R_mmio")"
}

# ---- virtio-pci: find the function, switch memory decoding on, locate every structure ------------------------
bar_addr() { # bar_addr INDEX: the address BAR INDEX is programmed to
  ba_lo=$(cr $((0x10 + 4 * $1)) 4)
  if [ $((ba_lo & 6)) -eq 4 ]; then
    ba_hi=$(cr $((0x14 + 4 * $1)) 4)
    echo $(((ba_hi << 32) | (ba_lo & ~15)))
  else
    echo $((ba_lo & ~15))
  fi
}
dfind_pci() { # dfind_pci DEVICE_ID
  BDF=""
  for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = "0x1af4" ] && [ $(($(cat "$d/device"))) -eq $(($1)) ]; then BDF=${d##*/}; fi
  done
  [ -n "$BDF" ] || derror "no PCI function 1af4:$(printf %04x $(($1)))"
  CFG=/sys/bus/pci/devices/$BDF/config
  [ -e "/sys/bus/pci/devices/$BDF/driver" ] && derror "$BDF is bound to a driver"
  dinfo pci.bdf "$BDF"
  dinfo pci.command.firmware "$(cr 0x04 2)"
  # Memory space and bus master on, INTx enabled, as a driver's pci_enable_device + pci_set_master leave it.
  cw 0x04 2 0x0006
  C_cfg=0
  p=$(($(cr 0x34 1) & 0xfc))
  n=0
  while [ $p -ne 0 ] && [ $n -lt 48 ]; do
    id=$(($(cr $p 1)))
    if [ $id -eq 9 ]; then
      t=$(($(cr $((p + 3)) 1)))
      b=$(($(cr $((p + 4)) 1)))
      o=$(($(cr $((p + 8)) 4)))
      r=""
      case $t in 1) r=common ;; 2) r=notify ;; 3) r=isr ;; 4) r=device ;; 5) C_pcicfgcap=${C_pcicfgcap:-$p} ;; esac
      if [ -n "$r" ] && [ -z "$(eval echo "\${R_$r:-}")" ]; then
        eval "R_$r=$(($(bar_addr $b) + o)); B_$r=$b; O_$r=$o"
      fi
    elif [ $id -eq 17 ]; then
      C_msixcap=$p
      tb=$(cr $((p + 4)) 4)
      pb=$(cr $((p + 8)) 4)
      R_msix=$(($(bar_addr $((tb & 7))) + (tb & ~7)))
      B_msix=$((tb & 7))
      O_msix=$((tb & ~7))
      R_pba=$(($(bar_addr $((pb & 7))) + (pb & ~7)))
      B_pba=$((pb & 7))
      O_pba=$((pb & ~7))
    fi
    p=$(($(cr $((p + 1)) 1) & 0xfc))
    n=$((n + 1))
  done
  for r in common notify isr device msix pba; do
    [ -n "$(eval echo "\${R_$r:-}")" ] || derror "no $r structure found in the capability list"
    dinfo "pci.$r" "bar$(eval echo "\$B_$r")+$(printf 0x%x "$(eval echo "\$O_$r")") @ $(printf 0x%x "$(eval echo "\$R_$r")")"
  done
  [ -n "${C_pcicfgcap:-}" ] || derror "no VIRTIO_PCI_CAP_PCI_CFG capability"
}

# dcaps KEY: the capability walk, one value per field (compared by capability type, not by position).
dcaps() {
  p=$(($(cr 0x34 1) & 0xfc))
  n=0
  order=""
  seen=" "
  while [ $p -ne 0 ] && [ $n -lt 48 ]; do
    id=$(($(cr $p 1)))
    if [ $id -eq 9 ]; then
      t=$(($(cr $((p + 3)) 1)))
      order="$order virtio$t"
      case "$seen" in *" virtio$t "*) ;; *)
        seen="$seen virtio$t "
        dkv "$1.virtio$t.cap_len" "$(cr $((p + 2)) 1)"
        dkv "$1.virtio$t.bar" "$(cr $((p + 4)) 1)"
        dkv "$1.virtio$t.id" "$(cr $((p + 5)) 1)"
        dkv "$1.virtio$t.offset" "$(cr $((p + 8)) 4)"
        dkv "$1.virtio$t.length" "$(cr $((p + 12)) 4)"
        [ $t -eq 2 ] && dkv "$1.virtio$t.notify_off_multiplier" "$(cr $((p + 16)) 4)"
        ;;
      esac
    elif [ $id -eq 17 ]; then
      order="$order msix"
      dkv "$1.msix.control" "$(cr $((p + 2)) 2)"
      tb=$(cr $((p + 4)) 4)
      pb=$(cr $((p + 8)) 4)
      dkv "$1.msix.table_bir" "$((tb & 7))"
      dkv "$1.msix.table_offset" "$(printf 0x%x $((tb & ~7)))"
      dkv "$1.msix.pba_bir" "$((pb & 7))"
      dkv "$1.msix.pba_offset" "$(printf 0x%x $((pb & ~7)))"
    else
      order="$order cap$(printf %02x $id)"
    fi
    p=$(($(cr $((p + 1)) 1) & 0xfc))
    n=$((n + 1))
  done
  dkv "$1.order" "${order# }"
  # shellcheck disable=SC2086 # split on purpose
  dkv "$1.types" "$(printf '%s\n' $order | sort -u | tr '\n' ' ' | sed 's/ $//')"
}

# dbarsize KEY BAR: size BAR (memory decoding off, all ones, read back, restore).
dbarsize() {
  r=$((0x10 + 4 * $2))
  cmd=$(cr 0x04 2)
  cw 0x04 2 $((cmd & ~2))
  lo=$(cr $r 4)
  cw $r 4 0xffffffff
  dkv "$1.low" "$(cr $r 4)"
  cw $r 4 "$lo"
  if [ $((lo & 6)) -eq 4 ]; then
    hi=$(cr $((r + 4)) 4)
    cw $((r + 4)) 4 0xffffffff
    dkv "$1.high" "$(cr $((r + 4)) 4)"
    cw $((r + 4)) 4 "$hi"
  fi
  cw 0x04 2 "$cmd"
}
