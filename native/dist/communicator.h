// A process group as the rest of the native code sees it: rank, size and the few collectives
// sequence parallelism and a spread-out search need. The implementation sits on libtorch's c10d
// (communicator_c10d.cc: ProcessGroupGloo on CPU, ProcessGroupNCCL on CUDA); this header includes
// no c10d header, so attention and model code stay light to compile.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <string>

namespace longrope {

// An operation in flight (a point-to-point send or receive). Wait() throws what the transport
// reported (a dead peer, the group's timeout).
class PendingOp {
 public:
  virtual ~PendingOp() = default;
  virtual void Wait() = 0;
};

enum class ReduceOp { kSum, kMax, kMin };

struct CommunicatorOptions;

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "gloo" or "nccl".
  virtual std::string backend() const = 0;
  // Where tensors must live for this group's collectives (CPU for Gloo, the rank's GPU for NCCL).
  virtual at::Device device() const = 0;

  // In place, on every rank.
  virtual void AllReduce(at::Tensor& tensor, ReduceOp op) = 0;
  virtual void Broadcast(at::Tensor& tensor, int root) = 0;
  // Every rank's `tensor` (same shape everywhere) stacked: [size, ...tensor.shape].
  virtual at::Tensor AllGather(const at::Tensor& tensor) = 0;
  virtual void Barrier() = 0;
  // Point to point, asynchronous: post both sides of a ring step before computing, wait after.
  // `tensor` must stay alive and untouched until Wait() returns.
  virtual std::unique_ptr<PendingOp> Send(at::Tensor& tensor, int to, int tag) = 0;
  virtual std::unique_ptr<PendingOp> Recv(at::Tensor& tensor, int from, int tag) = 0;

  // A subgroup of this group's ranks (c10d's new_group): a new group of the backend in `sub`,
  // connected through this group's store under `prefix`, so no new rendezvous port is needed.
  // Every rank of the subgroup calls it with the same prefix and size, each with its rank in
  // the subgroup; blocks until they all have (or sub.timeout passes, then throws).
  virtual std::shared_ptr<Communicator> Split(const std::string& prefix, const CommunicatorOptions& sub) = 0;
};

struct CommunicatorOptions {
  int rank = 0, size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend = "gloo";  // "gloo" | "nccl"
  int device_index = 0;          // NCCL: the GPU of this rank (LOCAL_RANK)
  std::chrono::milliseconds timeout{600000};
};

// Rendezvous through a TCPStore (rank 0 serves it) and the backend's own connections. Blocks
// until every rank has joined or the timeout passes (then throws).
std::shared_ptr<Communicator> CreateCommunicator(const CommunicatorOptions& opts);

// Which backends this build has: Gloo needs gloo's headers at build time (libgloo-dev), NCCL a
// CUDA build of libtorch.
bool CommunicatorHasGloo();
bool CommunicatorHasNccl();

}  // namespace longrope
