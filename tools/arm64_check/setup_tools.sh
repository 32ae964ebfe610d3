#!/usr/bin/env bash
# Fetches qemu-user (amd64) and Debian trixie's arm64 CPython into WORKDIR, without root: a private apt state,
# `apt-get download`, `dpkg-deb -x`. Skips the fetch when WORKDIR already holds exactly these pins.
# Usage: setup_tools.sh WORKDIR
set -euo pipefail

# Pinned versions (Debian trixie main). A point release drops the old versions from the archive: then the
# download fails, this script prints the archive's current versions, and the pins below are bumped by hand.
PINS=(
  qemu-user:amd64=1:10.0.13+ds-0+deb13u1
  python3.13-minimal:arm64=3.13.5-2+deb13u5
  libpython3.13-minimal:arm64=3.13.5-2+deb13u5
  libpython3.13-stdlib:arm64=3.13.5-2+deb13u5
  libc6:arm64=2.41-12+deb13u5
  libexpat1:arm64=2.9.0-1~deb13u1
  zlib1g:arm64=1:1.3.dfsg+really1.3.1-1+deb13u1
  libssl3t64:arm64=3.5.9-1~deb13u1
  libffi8:arm64=3.4.8-2
  libbz2-1.0:arm64=1.0.8-6
  liblzma5:arm64=5.8.1-1+deb13u2
  libsqlite3-0:arm64=3.46.1-7+deb13u2
  libuuid1:arm64=2.41.5-0+deb13u1
  libgcc-s1:arm64=14.2.0-19
  libzstd1:arm64=1.5.7+dfsg-1
)

WORK=$1
APT=$WORK/apt
printf 'pinned: %s\n' "${PINS[@]}"
if [[ -x $WORK/qemu/usr/bin/qemu-aarch64 && "$(cat "$WORK/tools.stamp" 2>/dev/null)" == "${PINS[*]}" ]]; then
  echo "tools: already in $WORK"
  exit 0
fi

# A private apt: its own sources, lists, cache and (empty) dpkg status, so the host's apt is untouched; no
# sandbox user (as root, apt's _apt user may not reach WORKDIR).
mkdir -p "$APT"/{state/lists/partial,cache/archives/partial,etc/preferences.d,etc/sources.list.d}
touch "$APT/state/status"
echo 'deb [arch=arm64,amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]' \
  'http://deb.debian.org/debian trixie main' > "$APT/etc/sources.list"
cat > "$APT/apt.conf" <<CONF
Dir::State "$APT/state";
Dir::State::status "$APT/state/status";
Dir::Cache "$APT/cache";
Dir::Etc::SourceList "$APT/etc/sources.list";
Dir::Etc::SourceParts "$APT/etc/sources.list.d";
Dir::Etc::Preferences "$APT/etc/preferences";
Dir::Etc::PreferencesParts "$APT/etc/preferences.d";
APT::Architecture "amd64";
APT::Architectures { "amd64"; "arm64"; };
Acquire::Languages "none";
APT::Sandbox::User "$(id -un)";
CONF
export APT_CONFIG=$APT/apt.conf
apt-get -q update

rm -rf "$WORK/debs" && mkdir -p "$WORK/debs"
if ! (cd "$WORK/debs" && apt-get -q download "${PINS[@]}"); then
  echo "download failed; the archive now has:" >&2
  for pin in "${PINS[@]}"; do apt-cache madison "${pin%%=*}" >&2 || true; done
  exit 1
fi

# Unpack: qemu into qemu/, keeping only its aarch64 emulator (the deb holds ~30 at ~15 MB each), and every
# arm64 deb into one sysroot (qemu -L). Merged /usr: the loader is looked up as /lib/ld-linux-aarch64.so.1.
rm -rf "$WORK/qemu" "$WORK/sysroot" && mkdir -p "$WORK/qemu" "$WORK/sysroot"
dpkg-deb -x "$WORK"/debs/qemu-user_*_amd64.deb "$WORK/qemu"
find "$WORK/qemu/usr/bin" ! -type d ! -name qemu-aarch64 -delete
for deb in "$WORK"/debs/*_arm64.deb; do dpkg-deb -x "$deb" "$WORK/sysroot"; done
ln -s usr/lib "$WORK/sysroot/lib"
echo "${PINS[*]}" > "$WORK/tools.stamp"
echo "tools: fetched into $WORK ($(du -sh "$WORK/debs" | cut -f1) of debs)"
