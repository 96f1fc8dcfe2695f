# CUDA settings that must exist before find_package(Torch): a CUDA libtorch's config runs torch's
# cuda.cmake, which enables the CUDA language, finds the toolkit and derives the -gencode flags.

# nvcc beyond PATH: CUDACXX and CMAKE_CUDA_COMPILER win; else CUDA_HOME, CUDA_PATH, /usr/local/cuda.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(LONGROPE_NVCC nvcc
    HINTS "$ENV{CUDA_HOME}/bin" "$ENV{CUDA_PATH}/bin" /usr/local/cuda/bin /opt/cuda/bin)
  if(LONGROPE_NVCC)
    set(CMAKE_CUDA_COMPILER "${LONGROPE_NVCC}" CACHE FILEPATH "CUDA compiler")
  endif()
endif()
# torch's cuda.cmake runs the old FindCUDA, which takes the toolkit from CUDA_TOOLKIT_ROOT_DIR or
# from the first nvcc on PATH (a wrapper script in /usr/local/bin gives a root with no headers).
if(NOT CUDA_TOOLKIT_ROOT_DIR)
  set(_nvcc "${CMAKE_CUDA_COMPILER}")
  if(NOT _nvcc AND DEFINED ENV{CUDACXX})
    set(_nvcc "$ENV{CUDACXX}")
  endif()
  get_filename_component(_nvcc_root "${_nvcc}/../.." ABSOLUTE)
  foreach(_root "${_nvcc_root}" "$ENV{CUDA_HOME}" "$ENV{CUDA_PATH}" /usr/local/cuda /opt/cuda)
    if(_root AND EXISTS "${_root}/include/cuda_runtime.h" AND EXISTS "${_root}/bin/nvcc")
      get_filename_component(_root "${_root}" REALPATH)
      set(CUDA_TOOLKIT_ROOT_DIR "${_root}" CACHE PATH "CUDA toolkit (for torch's FindCUDA)")
      break()
    endif()
  endforeach()
endif()

# The architectures we ship, one list shared with scripts/check-cuda.js (cmake/cuda-archs.txt).
# torch's cuda.cmake ignores CMAKE_CUDA_ARCHITECTURES (it sets it OFF and adds its own -gencode
# flags from TORCH_CUDA_ARCH_LIST) and, without that list, probes for a GPU at configure time.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/cuda-archs.txt" TORCH_CUDA_ARCH_LIST LIMIT_COUNT 1)
endif()
# Torch's cuda.cmake copies CMAKE_CXX_STANDARD into the CUDA dialect; CMake 3.25 knows no CUDA20.
set(CMAKE_CUDA_STANDARD 17)

# A toolkit with only nvcc and cudart has no nvrtc, which torch's config requires. A PyTorch wheel
# ships the nvrtc it was built with (nvidia/cu13/lib for CUDA 13, nvidia/cuda_nvrtc/lib for 12):
# prefer that one.
if(LONGROPE_TORCH_LIB_DIR AND NOT CUDA_nvrtc_LIBRARY)
  file(GLOB _nvrtc "${LONGROPE_TORCH_LIB_DIR}/../../nvidia/*/lib/libnvrtc.so*")
  list(FILTER _nvrtc EXCLUDE REGEX "builtins|alt")
  if(_nvrtc)
    list(GET _nvrtc 0 _nvrtc_first)
    get_filename_component(_nvrtc_first "${_nvrtc_first}" REALPATH)
    set(CUDA_nvrtc_LIBRARY "${_nvrtc_first}" CACHE FILEPATH "nvrtc (the PyTorch wheel's)")
  endif()
endif()

# The .node's RPATH: the wheel's nvidia/*/lib folders (cudart, nvrtc, cublas...), which the addon
# links directly once the kernels use the shared CUDA runtime.
set(LONGROPE_CUDA_RPATH "")
if(LONGROPE_TORCH_LIB_DIR)
  file(GLOB _nvidia_libs LIST_DIRECTORIES true "${LONGROPE_TORCH_LIB_DIR}/../../nvidia/*/lib")
  foreach(_dir IN LISTS _nvidia_libs)
    get_filename_component(_dir "${_dir}" REALPATH)
    list(APPEND LONGROPE_CUDA_RPATH "${_dir}")
  endforeach()
endif()
