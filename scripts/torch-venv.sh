#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment holding a PyTorch wheel, outside the clone so
# CI reuses it between runs, and prints its python. The addon's second and third builds compile
# against these wheels' libtorch (see scripts/check-torch-builds.sh).
#   scripts/torch-venv.sh cuda   torch 2.14.1, the CUDA 13 build, with its nvidia-* libraries (~4.5 GB)
#   scripts/torch-venv.sh cpu    torch 2.13.0 CPU build + transformers 5.18.0 (a reference peer)
# LONGROPE_VENV_ROOT overrides the location (default ~/.cache/longrope).
# pip runs with --retries 0: the machines install a fixed set offline, and without it pip waits on
# an index it cannot reach before using the local one.
set -euo pipefail

kind=${1:?usage: torch-venv.sh cuda|cpu}
venv_root=${LONGROPE_VENV_ROOT:-$HOME/.cache/longrope}
case "$kind" in
  cuda)
    torch_version=2.14.1
    # `pip install torch==2.14.1` fails on a missing cuda-bindings; the wheel's libraries are
    # these packages, installed one by one without their (unavailable) dependency metadata.
    packages_nodeps=(torch==2.14.1 nvidia-cuda-runtime nvidia-cuda-nvrtc nvidia-cublas nvidia-cudnn-cu13
      nvidia-cufft nvidia-curand nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-nccl-cu13
      nvidia-nvjitlink nvidia-nvshmem-cu13 nvidia-nvtx nvidia-cuda-cupti nvidia-cufile)
    packages=(typing_extensions filelock sympy networkx jinja2 fsspec)
    ;;
  cpu)
    torch_version=2.13.0
    packages_nodeps=()
    packages=(torch==2.13.0 transformers==5.18.0)
    ;;
  *) echo "torch-venv.sh: expected cuda or cpu but received '$kind'" >&2; exit 2 ;;
esac

venv="$venv_root/venv-$kind"
python="$venv/bin/python"
# Reuse only a complete environment: the stamp is written last.
stamp="$venv/.longrope-torch-$torch_version"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  mkdir -p "$venv_root"
  echo "torch-venv: creating $venv (torch $torch_version)" >&2
  python3 -m venv "$venv"
  pip=("$python" -m pip install --retries 0 --quiet --disable-pip-version-check)
  if [ ${#packages_nodeps[@]} -gt 0 ]; then "${pip[@]}" --no-deps "${packages_nodeps[@]}" >&2; fi
  "${pip[@]}" "${packages[@]}" >&2
  got=$("$python" -c 'import torch; print(torch.__version__.split("+")[0])')
  if [ "$got" != "$torch_version" ]; then
    echo "torch-venv: expected torch $torch_version in $venv but received $got" >&2
    exit 1
  fi
  touch "$stamp"
fi
echo "$python"
