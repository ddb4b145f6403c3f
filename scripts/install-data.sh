#!/usr/bin/env bash
# Installs the Debian packages that hold elastic's real data sets:
#   bible-kjv-text, bible-kjv  King James Bible (word-level language model)
#   dataset-fashion-mnist      Fashion-MNIST (sparse training, CNN inference)
#   wordnet-base               WordNet synsets (a 10^5-class classifier)
# Run as root (CI and these machines run as root); elsewhere use sudo.
set -euo pipefail
pkgs=(bible-kjv-text bible-kjv dataset-fashion-mnist wordnet-base)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "data packages already installed: ${pkgs[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
